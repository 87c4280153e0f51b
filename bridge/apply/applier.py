"""The apply stage: one batch of map results into the target, exactly once.

A batch is one target transaction holding its rows, its dead letters and the new
checkpoint (and Kafka offsets on the scale-out path). :meth:`Applier.apply_batch`
returns only after the commit, so the caller may then acknowledge the batch to
Debezium; a crash before that means redelivery, and redelivered events whose position
is not past the stored checkpoint are skipped.

Snapshot events (``position.snapshot``) share their position, so the checkpoint cannot
tell them apart: they are always applied again. That is harmless because a snapshot
read is an upsert of the row's current state, and their dead letters are found again
by fingerprint instead of being added twice.

:meth:`Applier.apply_in` does the same work inside a transaction the caller owns, and
optionally without the checkpoint: the Kafka path commits its partition offsets there
instead (:class:`bridge.capture.kafka_offsets.ExactlyOnceHandler`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bridge.apply import deadletter
from bridge.apply.deadletter import DeadLetter
from bridge.apply.dialects import TargetDialect, dialect_for
from bridge.apply.errors import (
    ErrorKind,
    RowRefusedError,
    TargetRefusedError,
    TargetUnavailableError,
    driver_message,
)
from bridge.apply.eventjson import encode_row, event_to_json
from bridge.apply.faults import fault_point
from bridge.apply.plan import KeyPlan, plan_batch
from bridge.apply.policy import (
    ConflictPolicy,
    MetadataFill,
    TargetSettings,
    settings_from_mapping,
)
from bridge.apply.retry import RetrySettings, run_with_retries
from bridge.apply.schema import conflict
from bridge.apply.target import TargetTable, reflect_target
from bridge.apply.writer import TableWriter
from bridge.checkpoint import read_checkpoint, write_checkpoint, write_offsets
from bridge.checkpoint.ordering import unapplied
from bridge.events import SourcePosition
from bridge.map.results import (
    Filtered,
    MapResult,
    Rejection,
    TargetOperation,
    TargetRow,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ApplyReport:
    """What one batch did; ``position`` is the checkpoint after it."""

    applied: int = 0
    dead_lettered: int = 0
    parked: int = 0
    filtered: int = 0
    skipped: int = 0
    position: SourcePosition | None = None
    dead_letter_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Outcome:
    failures: list[DeadLetter] = field(default_factory=list)
    parked: list[KeyPlan] = field(default_factory=list)


class Applier:
    """Writes map results of any number of pipelines into one target database."""

    def __init__(
        self,
        engine: Engine,
        policies: Mapping[str, ConflictPolicy] | None = None,
        default_policy: ConflictPolicy | None = None,
        retry: RetrySettings | None = None,
        targets: Mapping[str, TargetSettings] | None = None,
    ) -> None:
        self.engine = engine
        self.dialect: TargetDialect = dialect_for(engine.dialect.name)
        self.default = TargetSettings(default_policy or ConflictPolicy())
        self.targets = {
            table: TargetSettings(policy) for table, policy in (policies or {}).items()
        }
        self.targets.update(targets or {})
        self.retry = retry or RetrySettings()
        self._tables: dict[tuple[str, tuple[str, ...]], TargetTable] = {}

    @classmethod
    def for_mappings(
        cls,
        engine: Engine,
        mappings: Iterable[object],
        retry: RetrySettings | None = None,
    ) -> Applier:
        """An applier whose tables follow the policies and metadata of *mappings*."""
        targets = dict(settings_from_mapping(mapping) for mapping in mappings)
        return cls(engine, retry=retry, targets=targets)

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        kafka_offsets: Mapping[tuple[str, int], int] | None = None,
    ) -> ApplyReport:
        """Apply *results* in one transaction; return after the commit."""
        report = run_with_retries(
            lambda: self._apply_once(pipeline, results, kafka_offsets),
            self.retry,
            f"batch of {len(results)} events for pipeline {pipeline}",
        )
        fault_point("after_commit")
        # A batch that only moved the position (heartbeats, filtered rows) is not news.
        busy = report.applied or report.dead_lettered or report.parked
        log.log(
            logging.INFO if busy else logging.DEBUG,
            "pipeline %s: %s applied, %s dead-lettered, %s parked, %s filtered, "
            "%s skipped as already applied; position %s",
            pipeline,
            report.applied,
            report.dead_lettered,
            report.parked,
            report.filtered,
            report.skipped,
            report.position,
        )
        return report

    def write_rows(
        self, connection: Connection, pipeline: str, rows: Sequence[TargetRow]
    ) -> list[DeadLetter]:
        """Write *rows* inside the caller's transaction; return the refused ones.

        Parked rows go to ``bridge.conflict`` here too. Used by replay as well.
        """
        applied_at = datetime.now(UTC)
        filled = [self._filled(r, applied_at) for r in rows]
        outcome = self._write(connection, pipeline, filled)
        self._park(connection, pipeline, outcome.parked)
        return outcome.failures

    def _apply_once(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        kafka_offsets: Mapping[tuple[str, int], int] | None,
    ) -> ApplyReport:
        with (
            translate_errors(self.dialect, f"pipeline {pipeline}"),
            self.engine.connect() as conn,
            conn.begin(),
        ):
            return self._apply_in(conn, pipeline, results, kafka_offsets)
        raise AssertionError("unreachable")  # pragma: no cover

    def apply_in(
        self,
        connection: Connection,
        pipeline: str,
        results: Sequence[MapResult],
        *,
        positions: bool = True,
    ) -> ApplyReport:
        """Apply *results* inside the caller's transaction; never commits.

        Rows, parked rows and dead letters (rejections and refused rows) are all
        written through *connection*. With *positions*, events the stored checkpoint
        covers are skipped and the checkpoint moves, as in :meth:`apply_batch`.
        Without, every result is applied and the checkpoint is left alone: the Kafka
        path recognises redelivery by partition offset instead, because records of
        different partitions interleave and ``SourcePosition.order`` is monotonic only
        within one partition. ``report.position`` is then the highest position seen.

        Driver errors escape untranslated; wrap the transaction in
        :func:`translate_errors` and retry it whole on :class:`RetryableError`.
        """
        if not positions:
            report = self._write_results(connection, pipeline, results)
            report.position = _highest(results)
            return report

        stored = read_checkpoint(connection, pipeline, lock=True)
        fresh, position = unapplied(results, stored.position if stored else None)
        report = self._write_results(connection, pipeline, fresh)
        report.skipped = len(results) - len(fresh)
        report.position = position
        if position is not None and (stored is None or position != stored.position):
            write_checkpoint(connection, pipeline, position)
        return report

    def _apply_in(
        self,
        connection: Connection,
        pipeline: str,
        results: Sequence[MapResult],
        kafka_offsets: Mapping[tuple[str, int], int] | None,
    ) -> ApplyReport:
        report = self.apply_in(connection, pipeline, results)
        if kafka_offsets:
            write_offsets(connection, pipeline, kafka_offsets)
        fault_point("after_checkpoint")
        return report

    def _write_results(
        self, connection: Connection, pipeline: str, fresh: Sequence[MapResult]
    ) -> ApplyReport:
        applied_at = datetime.now(UTC)
        rows = [self._filled(r, applied_at) for r in fresh if isinstance(r, TargetRow)]
        outcome = self._write(connection, pipeline, rows)
        self._park(connection, pipeline, outcome.parked)
        fault_point("after_rows")

        letters = [_rejected(r) for r in fresh if isinstance(r, Rejection)]
        letters += outcome.failures
        report = ApplyReport(
            applied=len(rows) - len(outcome.failures),
            dead_lettered=len(letters),
            parked=len(outcome.parked),
            filtered=sum(isinstance(r, Filtered) for r in fresh),
        )
        report.dead_letter_ids = [
            deadletter.record(connection, pipeline, letter) for letter in letters
        ]
        fault_point("after_dead_letters")
        return report

    def _write(
        self, connection: Connection, pipeline: str, rows: Sequence[TargetRow]
    ) -> _Outcome:
        if not rows:
            return _Outcome()
        plans = plan_batch(rows, self._version_columns(rows))
        if any(plan.sequential for plan in plans):
            return self._write_one_by_one(connection, pipeline, rows)
        try:
            with connection.begin_nested():
                return _Outcome(parked=self._write_planned(connection, plans))
        except (DBAPIError, RowRefusedError) as exc:
            self._raise_unless_row_error(exc, pipeline, rows)
            log.warning(
                "batch of %s rows refused (%s); applying them one by one",
                len(rows),
                _describe(exc),
            )
        return self._write_one_by_one(connection, pipeline, rows)

    def _write_one_by_one(
        self, connection: Connection, pipeline: str, rows: Sequence[TargetRow]
    ) -> _Outcome:
        outcome = _Outcome()
        for row in rows:
            try:
                with connection.begin_nested():
                    plans = plan_batch([row], self._version_columns([row]))
                    outcome.parked += self._write_planned(connection, plans)
            except (DBAPIError, RowRefusedError) as exc:
                self._raise_unless_row_error(exc, pipeline, [row])
                outcome.failures.append(self._refused(row, exc))
        return outcome

    def _write_planned(
        self, connection: Connection, plans: list[KeyPlan]
    ) -> list[KeyPlan]:
        by_table: dict[str, list[KeyPlan]] = {}
        for plan in plans:
            by_table.setdefault(plan.table, []).append(plan)

        parked: list[KeyPlan] = []
        for table, table_plans in by_table.items():
            writer = TableWriter(
                self._target(connection, table, table_plans), self.dialect
            )
            writer.delete(connection, [p for p in table_plans if p.delete_first])
            parked += writer.upsert(
                connection, _writes(table_plans, TargetOperation.UPSERT)
            )
            writer.soft_delete(
                connection, _writes(table_plans, TargetOperation.SOFT_DELETE)
            )
        return parked

    def _target(
        self, connection: Connection, table: str, plans: Sequence[KeyPlan]
    ) -> TargetTable:
        key_columns = tuple(plans[0].key)
        cache_key = (table, key_columns)
        if cache_key not in self._tables:
            policy = self.targets.get(table, self.default).policy
            self._tables[cache_key] = reflect_target(
                connection, table, key_columns, policy
            )
        return self._tables[cache_key]

    def _version_columns(self, rows: Sequence[TargetRow]) -> dict[str, str | None]:
        columns: dict[str, str | None] = {}
        for table in {row.table for row in rows}:
            policy = self.targets.get(table, self.default).policy
            columns[table] = policy.column if policy.versioned else None
        return columns

    def _filled(self, row: TargetRow, applied_at: datetime) -> TargetRow:
        """*row* with the bridge's own columns (origin, position, times) set."""
        fill = self.targets.get(row.table, self.default).metadata
        if row.operation is TargetOperation.DELETE or fill == _NO_METADATA:
            return row
        event = row.event
        values = dict(row.values)
        if fill.origin is not None:
            values[fill.origin] = fill.origin_value
        if fill.source_position is not None:
            values[fill.source_position] = position_text(event.position)
        if fill.source_commit_time is not None:
            values[fill.source_commit_time] = event.committed_at
        if fill.applied_at is not None:
            values[fill.applied_at] = applied_at
        if fill.deleted_at is not None and row.operation is TargetOperation.UPSERT:
            values[fill.deleted_at] = None
        return TargetRow(row.table, row.operation, row.key, values, event, row.mapping)

    def _raise_unless_row_error(
        self,
        exc: DBAPIError | RowRefusedError,
        pipeline: str,
        rows: Sequence[TargetRow],
    ) -> None:
        if isinstance(exc, RowRefusedError):
            return
        kind, code, cause = self.dialect.classify_chain(exc)
        if kind is ErrorKind.RETRYABLE:
            raise TargetUnavailableError(
                f"target database unavailable ({driver_message(cause)}); the batch is "
                "rolled back and retried",
                code,
            ) from exc
        if kind is ErrorKind.FATAL:
            raise TargetRefusedError(
                f"pipeline {pipeline}: target database refused the batch for "
                f"{_written_by(rows)}: {driver_message(exc)}; no row can fix this, so "
                "the pipeline stops before its checkpoint moves; fix the mapping or "
                "the target table, then start the bridge again: the batch is "
                "delivered again"
            ) from exc

    def _refused(self, row: TargetRow, exc: DBAPIError | RowRefusedError) -> DeadLetter:
        if isinstance(exc, RowRefusedError):
            name, code, message = type(exc).__name__, exc.code, str(exc)
        else:
            _, code = self.dialect.classify(exc)
            name, message = type(exc.orig).__name__, driver_message(exc)
        return DeadLetter(row.event, row.mapping, name, message, code, row.table)

    def _park(
        self, connection: Connection, pipeline: str, plans: list[KeyPlan]
    ) -> None:
        for plan in plans:
            row = plan.last
            assert row is not None
            connection.execute(
                conflict.insert().values(
                    pipeline=pipeline,
                    created_at=deadletter._now(connection),
                    target_table=plan.table,
                    target_key=_json(encode_row(plan.key)),
                    row_values=_json(encode_row(plan.values)),
                    event=event_to_json(row.event),
                    source_position=row.event.position.to_json(),
                    mapping_name=row.mapping.name,
                    mapping_version=row.mapping.version,
                )
            )
            log.warning(
                "pipeline %s: row %s of %s parked", pipeline, plan.key, plan.table
            )


_NO_METADATA = MetadataFill()
_POSITION_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def position_text(position: SourcePosition) -> str:
    """The same text as ``SourcePosition.to_json``, with a reused encoder (per row)."""
    return _POSITION_ENCODER.encode(
        {
            "source": position.source,
            "order": list(position.order),
            "snapshot": position.snapshot,
            "fields": dict(position.fields),
        }
    )


def _highest(results: Sequence[MapResult]) -> SourcePosition | None:
    positions = [r.event.position for r in results]
    return max(positions, key=lambda p: p.order) if positions else None


def _writes(plans: Sequence[KeyPlan], operation: TargetOperation) -> list[KeyPlan]:
    return [plan for plan in plans if plan.write is operation]


def _rejected(rejection: Rejection) -> DeadLetter:
    return DeadLetter(
        rejection.event, rejection.mapping, rejection.error_class, rejection.reason
    )


def _written_by(rows: Sequence[TargetRow]) -> str:
    """``table T (mapping FILE)`` for the tables and mapping files of *rows*."""
    tables = sorted({row.table for row in rows})
    files = sorted({row.mapping.path for row in rows if row.mapping.path})
    text = f"table{'s' if len(tables) > 1 else ''} {', '.join(tables)}"
    if files:
        text += f" (mapping {', '.join(files)})"
    return text


def _describe(exc: DBAPIError | RowRefusedError) -> str:
    return str(exc) if isinstance(exc, RowRefusedError) else driver_message(exc)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@contextmanager
def translate_errors(dialect: TargetDialect, where: str) -> Iterator[None]:
    """Turn driver exceptions escaping a batch into the bridge's own errors.

    Row errors are settled inside the batch; one that escapes it concerns the bridge
    tables themselves (two processes on one pipeline, say), so it stops the pipeline
    rather than retrying the same failure forever.
    """
    try:
        yield
    except DBAPIError as exc:
        error_kind, code, cause = dialect.classify_chain(exc)
        message = f"{where}: target database error ({driver_message(cause)})"
        if error_kind is ErrorKind.RETRYABLE:
            raise TargetUnavailableError(
                f"{message}; the batch is retried", code
            ) from exc
        raise TargetRefusedError(f"{message}; the pipeline stops") from exc
