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
from bridge.map.compiled import Column, Mapping
from bridge.map.document import closest
from bridge.map.results import Filtered, Rejection, TargetRow

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?\Z"
)


@dataclass(frozen=True, slots=True)
class Difference:
    """Why the round trip changed one source column.

    ``expected`` when mapping the reversed value gives the same target values: the
    mapping normalises the column one way (``fold_decision_number``, ``uscc``, a
    many-to-one ``map``), so its original form cannot come back.
    """

    column: str
    expected: bool
    why: str


@dataclass
class Preview:
    """One source row through a mapping and back.

    ``outcome`` is ``mapped``, ``filtered`` or ``rejected`` with ``reason``;
    ``differences`` lists the source columns the round trip did not give back
    unchanged (empty when identical; ``None`` for a one-way mapping), and
    ``explained`` says for each whether that is expected.
    """

    source: dict[str, Any]
    outcome: str
    reason: str | None = None
    mapped: dict[str, Any] = field(default_factory=dict)
    reversed: dict[str, Any] | None = None
    differences: list[str] | None = None
    explained: list[Difference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.differences == []

    @property
    def as_expected(self) -> bool:
        """Every difference comes from a one-way normalisation of the mapping."""
        return all(d.expected for d in self.explained)


def map_preview(mapping: Mapping, row: RowMapping[str, Any]) -> Preview:
    """Map *row* as a snapshot read would; no round trip."""
    source = dict(row)
    result = mapping.apply(_snapshot_event(mapping, source))
    if isinstance(result, Filtered):
        return Preview(source, "filtered", result.reason)
    if isinstance(result, Rejection):
        return Preview(source, "rejected", result.reason)
    assert isinstance(result, TargetRow)
    return Preview(source, "mapped", mapped=dict(result.values))


def preview_row(mapping: Mapping, row: RowMapping[str, Any]) -> Preview:
    """Map *row* as a snapshot read would, then reverse it for a two-way mapping."""
    preview = map_preview(mapping, row)
    source = preview.source
    if preview.outcome != "mapped" or not mapping.two_way:
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
    preview.explained = [
        _difference(mapping, preview, name) for name in preview.differences
    ]
    return preview


def _same(left: Any, right: Any) -> bool:
    return type(left) is type(right) and bool(left == right)


def _difference(mapping: Mapping, preview: Preview, name: str) -> Difference:
    """Map the source row again with the reversed value of *name* alone in it."""
    assert preview.reversed is not None
    readers = [c for c in mapping.columns if name in c.reads]
    if not readers:
        return Difference(
            name, True, "no target column is computed from it, so it cannot come back"
        )
    targets = ", ".join(c.target for c in readers)
    try:
        again = mapping.map_row({**preview.source, name: preview.reversed[name]})
    except MappingError as exc:
        return Difference(
            name, False, f"mapping the reversed value fails ({exc}); check its reverse"
        )
    changed = [
        c.target
        for c in readers
        if not _same(again.get(c.target), preview.mapped.get(c.target))
    ]
    if changed:
        return Difference(
            name,
            False,
            f"the reversed value maps to a different {', '.join(changed)}; check its "
            "reverse",
        )
    return Difference(
        name,
        True,
        f"{_one_way_steps(readers)} it one way, and the reversed value "
        f"maps to the same {targets}",
    )


def _one_way_steps(readers: list[Column]) -> str:
    """Who normalises the column: the transforms of *readers* that lose its original
    form, with their target column, else the expressions that read it."""
    steps = [
        f"{s.name} ({column.target})"
        for column in readers
        for s in column.steps
        if s.inverse is None or (s.normalizes and s.name != "required")
    ]
    named = steps or [f"the expression of {c.target}" for c in readers if not c.steps]
    if not named:
        return "the mapping normalises"
    if len(named) > 1:
        return f"{', '.join(named[:-1])} and {named[-1]} normalise"
    return f"{named[0]} normalises"


def unread_keys(mapping: Mapping, row: RowMapping[str, Any]) -> str | None:
    """A note naming the keys of a ``--row`` that *mapping* never reads (typos)."""
    known = {name for c in mapping.columns for name in c.reads}
    known |= {name for f in mapping.filters for name in f.reads}
    known |= {r.source for r in mapping.reverse_columns} | mapping.domains.keys()
    unread = sorted(set(row) - known)
    if not unread:
        return None
    candidates = sorted(known - set(row))
    shown = []
    for key in unread:
        guess = closest(key, candidates)
        shown.append(f"{key} (did you mean {guess}?)" if guess else key)
    noun = "a column" if len(unread) == 1 else "columns"
    return f"--row gives {noun} this mapping does not read: {', '.join(shown)}"


def absent_keys(mapping: Mapping, row: RowMapping[str, Any]) -> str | None:
    """A note naming every column *mapping* reads that a ``--row`` leaves out.

    The mapping rejects the row at the first such column without a ``default:``;
    naming them all at once saves a run per column.
    """
    read = {name for c in mapping.columns for name in c.reads}
    read |= {name for f in mapping.filters for name in f.reads}
    absent = sorted(read - set(row))
    if not absent:
        return None
    noun = "a column" if len(absent) == 1 else "columns"
    return (
        f"--row lacks {noun} this mapping reads: {', '.join(absent)} (one without "
        "a default: in the mapping rejects the row)"
    )


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
    row, errors = {}, []
    for key, value in data.items():
        try:
            row[str(key)] = _typed(value)
        except ValueError as exc:
            kind = "date" if _DATE.match(value) else "date-time"
            errors.append(f"--row {key}: {value!r} is not a valid {kind} ({exc})")
    if errors:
        raise ConfigError("\n".join(errors))
    return row


def _typed(value: Any) -> Any:
    """*value* as JSON gave it, or the date or date-time its ISO text denotes.

    Raises ``ValueError`` for ISO-shaped text that is no real day or time.
    """
    if not isinstance(value, str):
        return value
    if _DATE.match(value):
        return date.fromisoformat(value)
    if _DATETIME.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def row_count(count: int) -> int:
    """*count* if it is a number of rows to preview; ``ConfigError`` if not."""
    if count < 1:
        raise ConfigError(
            f"--from-db takes the number of rows to preview, 1 or more; got {count}"
        )
    return count


def rows_from_db(url: str, mapping: Mapping, limit: int) -> list[dict[str, Any]]:
    """Up to *limit* rows of the mapping's source table, read with *url*."""
    row_count(limit)
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
