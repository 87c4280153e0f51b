"""Reading one pipeline's day: source rows, the staged rows, open dead letters.

The source table is read with the capture account (the only one allowed to), the
staging and dead-letter tables with the writer account of the target database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import sqlalchemy as sa

from bridge.apply.deadletter import Status
from bridge.apply.schema import dead_letter
from bridge.errors import ConfigError, database_message
from bridge.map.compiled import Mapping as CompiledMapping
from bridge.map.preview import map_preview
from bridge.reconcile.compare import (
    BEIJING,
    OpenDeadLetter,
    OutcomeCheck,
    SourceOutcome,
    StagedRow,
    check_outcome,
)

log = logging.getLogger(__name__)

BATCH: Final = 1000
"""Keys per ``IN (...)`` query of the staging and dead-letter tables."""


@dataclass(frozen=True, slots=True)
class ChangeTime:
    """The source column that records when an outcome row last changed.

    ``wall_clock`` columns hold Beijing local time (NECIPS ``DATETIME``), the others
    aware instants. ``fallback`` is read where the column is NULL.
    """

    column: str
    wall_clock: bool
    fallback: str | None = None


# NOTE: per source table rather than a run-config setting: the demo's two outcome
# tables are all the bridge captures so far. xyxf_jg records every change in gxsj;
# E_CR_REPAIR has no change time at all, so its decision instant stands in for it
# (REPDATE, the decision day, where REPDECTIME is NULL).
CHANGE_TIMES: Final = {
    "xyzg.xyxf_jg": ChangeTime("gxsj", wall_clock=False),
    "gsxt.E_CR_REPAIR": ChangeTime("REPDECTIME", wall_clock=True, fallback="REPDATE"),
}


@dataclass(frozen=True, slots=True)
class DayShape:
    """Which source columns give an outcome's number, province and change time."""

    key: str
    province: str
    change: ChangeTime

    @classmethod
    def of(cls, mapping: CompiledMapping, province_column: str | None) -> DayShape:
        """The shape of *mapping*'s source; ``ConfigError`` naming what is missing."""
        where = f"mapping {mapping.ref.name} ({mapping.ref.path})"
        if len(mapping.target_key) != 1:
            raise ConfigError(
                f"{where}: reconcile needs a one-column target key, the outcome "
                f"number; it has {', '.join(mapping.target_key)}; nothing was reported"
            )
        change = CHANGE_TIMES.get(mapping.source_table)
        if change is None:
            raise ConfigError(
                f"{where}: reconcile knows the change-time column of "
                f"{', '.join(CHANGE_TIMES)} only, not of {mapping.source_table}; "
                "nothing was reported"
            )
        key = _source_of(mapping, mapping.target_key[0])
        if key is None:
            raise ConfigError(
                f"{where}: the target key {mapping.target_key[0]} is not copied "
                "`from:` one source column; nothing was reported"
            )
        province = _source_of(mapping, province_column) if province_column else None
        if province is None:
            raise ConfigError(
                f"{where}: the pipeline's province_column "
                f"({province_column or 'unset'}) must name a target column copied "
                "`from:` one source column; nothing was reported"
            )
        return cls(key, province, change)


def _source_of(mapping: CompiledMapping, target: str) -> str | None:
    return next((c.source for c in mapping.columns if c.target == target), None)


@dataclass(frozen=True, slots=True)
class Sides:
    """The two engines of one pipeline: its source (capture) and target (writer)."""

    source: sa.Engine
    target: sa.Engine


def check_day(
    mapping: CompiledMapping,
    sides: Sides,
    *,
    pipeline: str,
    province_column: str | None,
    day: date,
    province: str | None = None,
) -> list[OutcomeCheck]:
    """Every outcome *mapping*'s source changed on Beijing *day*, checked."""
    shape = DayShape.of(mapping, province_column)
    rows = changed_rows(sides.source, mapping, shape, day, province)
    # The forward mapping only: the round trip is preview's, not the report's.
    previews = [map_preview(mapping, row) for row in rows]
    key = mapping.target_key[0]
    staged_keys = [p.mapped[key] for p in previews if p.outcome == "mapped"]
    staged = staged_rows(sides.target, mapping, staged_keys)
    letters = open_dead_letters(
        sides.target, pipeline, shape.key, [row[shape.key] for row in rows]
    )
    checks = []
    for row, preview in zip(rows, previews, strict=True):
        source = SourceOutcome(
            str(row[shape.key]),
            _text(row[shape.province]),
            changed_on(row, shape.change),
            preview,
        )
        held = staged.get(preview.mapped[key]) if preview.outcome == "mapped" else None
        checks.append(check_outcome(source, held, letters.get(row[shape.key])))
    log.info(
        "pipeline %s: %s outcomes changed on %s, %s to look at",
        pipeline,
        len(checks),
        day,
        sum(c.problem for c in checks),
    )
    return checks


def changed_rows(
    engine: sa.Engine,
    mapping: CompiledMapping,
    shape: DayShape,
    day: date,
    province: str | None,
) -> list[dict[str, Any]]:
    """The source rows whose change time falls on Beijing *day*, oldest first."""
    change = shape.change
    fallback = change.fallback or change.column
    table = _table(
        mapping.source_table, change.column, fallback, shape.province, shape.key
    )
    changed: sa.ColumnElement[Any] = table.c[change.column]
    if change.fallback is not None:
        changed = sa.func.coalesce(changed, table.c[change.fallback])
    start = datetime.combine(day, time(), BEIJING)
    if change.wall_clock:
        start = start.replace(tzinfo=None)
    query = (
        sa.select(sa.text("*"))
        .select_from(table)
        .where(changed >= start, changed < start + timedelta(days=1))
        .order_by(changed, table.c[shape.key])
    )
    if province is not None:
        query = query.where(table.c[shape.province] == province)
    return [dict(row._mapping) for row in _execute(engine, mapping.source_table, query)]


def staged_rows(
    engine: sa.Engine, mapping: CompiledMapping, keys: Sequence[Any]
) -> dict[Any, StagedRow]:
    """The staging rows of *keys*, by key."""
    key = mapping.target_key[0]
    applied = mapping.metadata_columns.applied_at
    deleted = (
        mapping.delete_policy.column
        if mapping.delete_policy.policy == "soft_delete"
        else None
    )
    table = _table(mapping.target_table, key)
    found: dict[Any, StagedRow] = {}
    for chunk in _chunks(keys):
        query = (
            sa.select(sa.text("*")).select_from(table).where(table.c[key].in_(chunk))
        )
        for row in _execute(engine, mapping.target_table, query):
            values = dict(row._mapping)
            found[values[key]] = StagedRow(
                values,
                applied_at=_instant(values.get(applied)) if applied else None,
                deleted_column=deleted,
                deleted_at=_instant(values.get(deleted)) if deleted else None,
            )
    return found


def open_dead_letters(
    engine: sa.Engine, pipeline: str, key_column: str, numbers: Sequence[Any]
) -> dict[Any, OpenDeadLetter]:
    """The newest dead letter of each of *numbers* not replayed since.

    A discarded letter stays open here: the outcome still never reached the other
    side. The event key is JSON text, so it is matched after reading.
    """
    if not numbers:
        return {}
    wanted = set(numbers)
    query = (
        sa.select(dead_letter.c.id, dead_letter.c.event_key, dead_letter.c.status,
                  dead_letter.c.message)
        .where(dead_letter.c.pipeline == pipeline,
               dead_letter.c.status != Status.REPLAYED)
        .order_by(dead_letter.c.id)
    )
    letters: dict[Any, OpenDeadLetter] = {}
    for row in _execute(engine, "bridge.dead_letter", query):
        number = _key_value(row.event_key, key_column)
        if number in wanted:
            letters[number] = OpenDeadLetter(int(row.id), row.status, row.message)
    return letters


def changed_on(row: Mapping[str, Any], change: ChangeTime) -> date:
    """The Beijing day of *row*'s change time."""
    value = row[change.column]
    if value is None and change.fallback is not None:
        value = row[change.fallback]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(BEIJING).date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise ConfigError(
        f"{change.column} is {value!r}, not a date-time; nothing was reported"
    )


def _table(qualified: str, *columns: str) -> sa.TableClause:
    schema, name = qualified.split(".", 1)
    return sa.table(name, *(sa.column(c) for c in dict.fromkeys(columns)),
                    schema=schema)


def _execute(engine: sa.Engine, table: str, query: sa.Executable) -> Iterator[Any]:
    try:
        with engine.connect() as connection:
            yield from connection.execute(query)
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(
            f"cannot read {table} as {engine.url.username}: {database_message(exc)}; "
            "check the account's rights; nothing was reported"
        ) from exc


def _chunks(keys: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), BATCH):
        yield list(keys[start : start + BATCH])


def _instant(value: Any) -> datetime | None:
    """The bridge's own time columns hold UTC; MySQL returns them naive."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _key_value(event_key: str, column: str) -> Any:
    try:
        key = json.loads(event_key)
    except json.JSONDecodeError:
        return None
    return key.get(column) if isinstance(key, dict) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip()
