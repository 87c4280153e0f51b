"""``creditbridge preview``: a source row, its mapped row, and the way back.

The work is plain functions over rows; the CLI only renders :class:`Preview`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping as RowMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bridge.errors import ConfigError, MappingError
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map.compiled import Mapping
from bridge.map.results import Filtered, Rejection, TargetRow

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?\Z"
)


@dataclass
class Preview:
    """One source row through a mapping and back.

    ``outcome`` is ``mapped``, ``filtered`` or ``rejected`` with ``reason``;
    ``differences`` lists the source columns the round trip did not give back
    unchanged (empty when identical; ``None`` for a one-way mapping).
    """

    source: dict[str, Any]
    outcome: str
    reason: str | None = None
    mapped: dict[str, Any] = field(default_factory=dict)
    reversed: dict[str, Any] | None = None
    differences: list[str] | None = None

    @property
    def identical(self) -> bool:
        return self.differences == []


def preview_row(mapping: Mapping, row: RowMapping[str, Any]) -> Preview:
    """Map *row* as a snapshot read would, then reverse it for a two-way mapping."""
    source = dict(row)
    result = mapping.apply(_snapshot_event(mapping, source))
    if isinstance(result, Filtered):
        return Preview(source, "filtered", result.reason)
    if isinstance(result, Rejection):
        return Preview(source, "rejected", result.reason)
    assert isinstance(result, TargetRow)
    preview = Preview(source, "mapped", mapped=dict(result.values))
    if not mapping.two_way:
        return preview
    try:
        preview.reversed = mapping.reverse(preview.mapped)
    except MappingError as exc:
        preview.reason = str(exc)
        return preview
    preview.differences = [
        name
        for name, value in preview.reversed.items()
        if name in source and not _same(source[name], value)
    ]
    return preview


def _same(left: Any, right: Any) -> bool:
    return type(left) is type(right) and bool(left == right)


def _snapshot_event(mapping: Mapping, row: dict[str, Any]) -> ChangeEvent:
    schema, table = mapping.source_table.split(".", 1)
    return ChangeEvent(
        op=Operation.READ,
        source="preview",
        schema=schema,
        table=table,
        key={},
        before=None,
        after=row,
        position=SourcePosition("preview", (0,)),
    )


def row_from_json(text: str) -> dict[str, Any]:
    """A source row from JSON: numbers with a point become Decimal, ISO text a date.

    ``2024-06-15`` is a date, ``2024-06-15T00:00:00`` a wall-clock date-time and
    ``2024-06-14T16:00:00Z`` (or with an offset) an instant.
    """
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--row is not valid JSON: {exc.msg} at {exc.pos}") from exc
    if not isinstance(data, dict):
        raise ConfigError("--row must be a JSON object of column names to values")
    return {str(k): _typed(v) for k, v in data.items()}


def _typed(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _DATE.match(value):
        return date.fromisoformat(value)
    if _DATETIME.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def rows_from_db(url: str, mapping: Mapping, limit: int) -> list[dict[str, Any]]:
    """Up to *limit* rows of the mapping's source table, read with *url*."""
    schema, name = mapping.source_table.split(".", 1)
    table = sa.table(name, schema=schema)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            query = sa.select(sa.text("*")).select_from(table).limit(limit)
            return [dict(r._mapping) for r in connection.execute(query)]
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(
            f"cannot read {mapping.source_table} with {engine.url.render_as_string()}: "
            f"{exc.__class__.__name__}; check the URL and the account's rights"
        ) from exc
    finally:
        engine.dispose()
