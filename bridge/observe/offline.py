"""The bridge's status read from the target databases, for when it is not running.

Each pipeline keeps its checkpoint and its dead letters in its target database
(``bridge.checkpoint``, ``bridge.dead_letter``), so the last applied position and the
dead-letter queue survive the process. PostgreSQL also tells how much WAL each
replication slot holds back. Lag and throughput need the running bridge and are left
unknown here.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from bridge.apply import make_engine
from bridge.apply.deadletter import Status, key_text
from bridge.apply.schema import checkpoint, dead_letter
from bridge.events import SourcePosition
from bridge.observe.lag import read_slot_retention
from bridge.observe.logging import Redactor
from bridge.observe.status import DeadLetterEntry, PipelineStatus, StatusReport

logger = logging.getLogger(__name__)

RECENT_DEAD_LETTERS: Final = 20
CONNECT_TIMEOUT_SECONDS: Final = 5


class DatabaseStatus:
    """What one target database says about the pipelines that write into it."""

    def __init__(
        self, connection: sa.Connection, redactor: Redactor,
        pipelines: Collection[str] | None = None,
    ) -> None:
        self._connection = connection
        self._redact = redactor
        self._pipelines = pipelines

    def _only_ours(self, query: sa.Select[Any], column: sa.Column[str]
                   ) -> sa.Select[Any]:
        if self._pipelines is None:
            return query
        return query.where(column.in_(sorted(self._pipelines)))

    def pipelines(self, direction: str) -> list[PipelineStatus]:
        """One stopped pipeline per checkpoint row, with its pending dead letters."""
        pending = self.pending_dead_letters()
        query = sa.select(checkpoint.c.pipeline, checkpoint.c.position,
                          checkpoint.c.updated_at)
        rows = self._connection.execute(self._only_ours(query, checkpoint.c.pipeline))
        return [
            PipelineStatus(
                name=row.pipeline, direction=direction, state="stopped",
                last_position=str(SourcePosition.from_json(row.position)),
                last_applied_at=_utc(row.updated_at),
                dead_letters=pending.get(row.pipeline, 0),
            )
            for row in sorted(rows, key=lambda row: str(row.pipeline))
        ]

    def pending_dead_letters(self) -> dict[str, int]:
        """Dead letters neither replayed nor discarded, per pipeline."""
        query = (
            sa.select(dead_letter.c.pipeline, sa.func.count())
            .where(dead_letter.c.status == Status.NEW)
            .group_by(dead_letter.c.pipeline)
        )
        rows = self._connection.execute(self._only_ours(query, dead_letter.c.pipeline))
        return {str(pipeline): int(count) for pipeline, count in rows}

    def recent_dead_letters(self, limit: int = RECENT_DEAD_LETTERS
                            ) -> list[DeadLetterEntry]:
        """The newest pending dead letters, keys and messages redacted."""
        columns = dead_letter.c
        query = (
            sa.select(columns.id, columns.pipeline, columns.source_table,
                      columns.event_key, columns.error_class, columns.message,
                      columns.created_at, columns.source_position)
            .where(columns.status == Status.NEW)
            .order_by(columns.id.desc())
            .limit(limit)
        )
        rows = self._connection.execute(self._only_ours(query, columns.pipeline))
        return [
            DeadLetterEntry(
                id=int(row.id), pipeline=row.pipeline, table=row.source_table,
                key=self._redact(key_text(row.event_key)),
                error=self._redact(f"{row.error_class}: {row.message}"),
                failed_at=_utc(row.created_at),
                position=self._redact(_position_text(row.source_position)),
            )
            for row in rows
        ]

    def replication_slots(self) -> dict[str, int]:
        if self._connection.dialect.name != "postgresql":
            return {}
        return read_slot_retention(self._connection)


def _utc(moment: datetime) -> datetime:
    # MySQL DATETIME columns come back naive; the bridge stores them in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _position_text(position: str) -> str:
    try:
        return str(SourcePosition.from_json(position))
    except (ValueError, KeyError, TypeError):
        return position


def read_database_status(
    databases: Mapping[str, tuple[str | sa.URL, str]],
    *,
    redactor: Redactor | None = None,
    pipelines: Collection[str] | None = None,
    slots: Mapping[str, str] | None = None,
    now: datetime | None = None,
    order: Sequence[str] = (),
) -> StatusReport:
    """Status from the bridge tables of each target database.

    *databases* maps a database name to ``(SQLAlchemy URL, direction label)``; the
    direction is that of the pipelines whose checkpoints live there. A database that
    cannot be read is named in the report's problems; the others are still read.
    *pipelines* limits the report to those pipeline names. *slots* names the
    replication slot each pipeline's PostgreSQL source keeps for it, so a pipeline
    shows its slot's retention when one of the databases reports that slot.
    Pipelines named in *order* come first, in that order (the run configuration's,
    as the running bridge lists them), the others after in database order.
    """
    redactor = redactor or Redactor()
    report = StatusReport(generated_at=now or datetime.now(UTC), pipelines=[],
                          origin="databases")

    for name, (url, direction) in databases.items():
        engine = make_engine(
            url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        try:
            with engine.connect() as connection:
                side = DatabaseStatus(connection, redactor, pipelines)
                report.pipelines.extend(side.pipelines(direction))
                report.dead_letters.extend(side.recent_dead_letters())
                report.replication_slots.update(side.replication_slots())
        except sa.exc.DBAPIError as exc:
            problem = redactor(
                f"database {name}: cannot read the bridge tables ({exc.orig}); "
                "its pipelines are left out of this report"
            )
            logger.warning("%s", problem)
            report.problems.append(problem)
        finally:
            engine.dispose()

    report.dead_letters.sort(key=lambda entry: entry.failed_at, reverse=True)
    rank = {name: index for index, name in enumerate(order)}
    report.pipelines.sort(key=lambda p: rank.get(p.name, len(rank)))
    _add_slot_retention(report, slots or {})
    return report


def _add_slot_retention(report: StatusReport, slots: Mapping[str, str]) -> None:
    """Each pipeline's slot retention, from the slots the databases reported."""
    retained = report.replication_slots
    report.pipelines[:] = [
        replace(pipeline, slot_retained_bytes=retained[slots[pipeline.name]])
        if slots.get(pipeline.name) in retained
        else pipeline
        for pipeline in report.pipelines
    ]
