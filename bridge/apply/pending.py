"""Whole source transactions on the embedded path: hold the open tail in the target.

The embedded engine hands over batches of at most ``max.batch.size`` records and
counts a batch as processed once the handler returns, so a source transaction cut by
a batch boundary would otherwise reach the staging table in two target transactions,
and a reader could see half of it. Holding the tail in memory is not safe either:
Debezium already considers it processed, so a crash would lose it.

With ``provide.transaction.metadata=true`` each change event names its transaction
and an END marker says when the transaction is complete. :class:`TransactionHold`
runs one batch as one target transaction:

1. lock the checkpoint and drop the redelivered events it covers;
2. release the held events of every transaction that is complete now, in their
   delivery order, ahead of the batch's own events;
3. apply the complete part; store the events of the still open transaction in
   ``bridge.pending_event`` (typed JSON, :mod:`bridge.apply.eventjson`);
4. move the checkpoint past everything seen, held events included: they are stored.

A crash before the commit leaves everything as it was and the batch comes again; a
crash after it finds the held events stored and their redelivery covered by the
checkpoint. Nothing is lost or applied twice.

Which transactions are complete. A source delivers transactions one after another
(PostgreSQL's pgoutput and the MySQL binlog both send a transaction whole at its
commit), so at the end of a batch at most one transaction can still be open: the
one the last tracked event belongs to, unless its END is in the batch. Every other
held transaction is complete, and if its END never came (lost by a connector restart
between the last event and the END, or by turning the metadata off) the arrival of
a later transaction proves it complete; it is applied with a WARNING. Events without
transaction metadata (snapshot reads, connectors without the setting) are applied at
once, as before. A transaction held longer than ``warn_after`` is reported at
WARNING on every batch until it completes.

NOTE: a released transaction is loaded and applied whole, so memory grows with the
largest source transaction (about 50 MB per 10,000 demo-sized events); a bound that
applies a giant transaction in parts would give up the guarantee, so none is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.apply.applier import Applier, ApplyReport, translate_errors
from bridge.apply.dialects import dialect_for
from bridge.apply.eventjson import event_from_json, event_to_json
from bridge.apply.faults import fault_point
from bridge.apply.retry import run_with_retries
from bridge.apply.schema import pending_event
from bridge.checkpoint import read_checkpoint, write_checkpoint
from bridge.checkpoint.ordering import unapplied
from bridge.decode.markers import TransactionMarker
from bridge.events import ChangeEvent
from bridge.map.results import MapResult

log = logging.getLogger(__name__)

DEFAULT_WARN_AFTER = timedelta(minutes=5)

Remap = Callable[[ChangeEvent], MapResult]


@dataclass(frozen=True, slots=True)
class HeldTransaction:
    """The held events of one transaction, as stored."""

    transaction_id: str
    events: int
    first_seq: int
    last_seq: int
    held_since: datetime


@dataclass(slots=True)
class HoldPlan:
    """What one batch does: release stored transactions, apply, hold."""

    release: list[str] = field(default_factory=list)
    apply: list[MapResult] = field(default_factory=list)
    hold: list[MapResult] = field(default_factory=list)


@dataclass(slots=True)
class Settled:
    """The results to apply now (released ones first) and how many were held."""

    apply: list[MapResult]
    held: int
    released: int


@dataclass(slots=True)
class HeldBatch:
    """One committed batch: its report and the results it applied."""

    report: ApplyReport
    applied: list[MapResult]
    held: int = 0
    released: int = 0


def tracked(result: MapResult) -> bool:
    """Whether the event came with transaction metadata, so its END will tell."""
    event = result.event
    return event.transaction_order is not None and event.transaction_id is not None


def plan_hold(
    held: Sequence[HeldTransaction],
    fresh: Sequence[MapResult],
    markers: Sequence[TransactionMarker],
    *,
    tracking: bool = True,
) -> HoldPlan:
    """Split a batch into what applies now and what waits for its END.

    *held* are the stored transactions in delivery order, *fresh* the batch's results
    not yet applied, *markers* its BEGIN/END records. Without *tracking* (the
    connector no longer sends transaction metadata) nothing waits.
    """
    ended = {m.transaction_id for m in markers if m.status == "END"}
    open_id = _last_tracked_id(held, fresh) if tracking else None
    if open_id in ended:
        open_id = None

    plan = HoldPlan(
        release=[t.transaction_id for t in held if t.transaction_id != open_id]
    )
    for result in fresh:
        if _belongs(result, open_id):
            plan.hold.append(result)
        else:
            plan.apply.append(result)
    return plan


def _belongs(result: MapResult, transaction_id: str | None) -> bool:
    return (
        transaction_id is not None
        and tracked(result)
        and result.event.transaction_id == transaction_id
    )


def _last_tracked_id(
    held: Sequence[HeldTransaction], fresh: Sequence[MapResult]
) -> str | None:
    for result in reversed(fresh):
        if tracked(result):
            return result.event.transaction_id
    return held[-1].transaction_id if held else None


class PendingStore:
    """``bridge.pending_event``: reads and writes inside the caller's transaction."""

    def held(self, connection: Connection, pipeline: str) -> list[HeldTransaction]:
        """The held transactions of *pipeline*, oldest first."""
        table = pending_event
        query = (
            sa.select(
                table.c.transaction_id,
                sa.func.count().label("events"),
                sa.func.min(table.c.seq).label("first_seq"),
                sa.func.max(table.c.seq).label("last_seq"),
                sa.func.min(table.c.held_at).label("held_since"),
            )
            .where(table.c.pipeline == pipeline)
            .group_by(table.c.transaction_id)
            .order_by(sa.func.min(table.c.seq))
        )
        return [
            HeldTransaction(
                row.transaction_id,
                row.events,
                row.first_seq,
                row.last_seq,
                _aware(row.held_since),
            )
            for row in connection.execute(query)
        ]

    def load(
        self, connection: Connection, pipeline: str, transaction_ids: Sequence[str]
    ) -> list[ChangeEvent]:
        """The held events of *transaction_ids*, in delivery order."""
        if not transaction_ids:
            return []
        query = (
            sa.select(pending_event.c.event)
            .where(
                pending_event.c.pipeline == pipeline,
                pending_event.c.transaction_id.in_(transaction_ids),
            )
            .order_by(pending_event.c.seq)
        )
        return [event_from_json(row.event) for row in connection.execute(query)]

    def hold(
        self,
        connection: Connection,
        pipeline: str,
        events: Sequence[ChangeEvent],
        first_seq: int,
    ) -> None:
        if not events:
            return
        now = dialect_for(connection.dialect.name).bind_value(datetime.now(UTC))
        connection.execute(
            pending_event.insert(),
            [
                {
                    "pipeline": pipeline,
                    "seq": first_seq + n,
                    "transaction_id": event.transaction_id,
                    "event": event_to_json(event),
                    "held_at": now,
                }
                for n, event in enumerate(events)
            ],
        )

    def release(
        self, connection: Connection, pipeline: str, transaction_ids: Sequence[str]
    ) -> None:
        if not transaction_ids:
            return
        connection.execute(
            pending_event.delete().where(
                pending_event.c.pipeline == pipeline,
                pending_event.c.transaction_id.in_(transaction_ids),
            )
        )


class TransactionHold:
    """Applies batches so that no source transaction is ever visible half-applied."""

    def __init__(
        self,
        applier: Applier,
        *,
        store: PendingStore | None = None,
        warn_after: timedelta = DEFAULT_WARN_AFTER,
        tracking: bool = True,
    ) -> None:
        """Without *tracking* (a connector without transaction metadata) the first
        batch applies whatever an earlier run held, and later ones go straight to
        the applier."""
        self._applier = applier
        self._store = store or PendingStore()
        self.warn_after = warn_after
        self.tracking = tracking
        self._drained = False

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch:
        """Apply *results* in one target transaction; return after the commit."""
        if self._drained:
            return HeldBatch(self._applier.apply_batch(pipeline, results), [*results])
        batch = run_with_retries(
            lambda: self._apply_once(pipeline, results, markers, remap),
            self._applier.retry,
            f"batch of {len(results)} events for pipeline {pipeline}",
        )
        fault_point("after_commit")
        report = batch.report
        # A batch that only moved the position (heartbeats, filtered rows) is not news.
        busy = report.applied or report.dead_lettered or report.parked or batch.held
        log.log(
            logging.INFO if busy else logging.DEBUG,
            "pipeline %s: %s applied, %s dead-lettered, %s parked, %s filtered, "
            "%s skipped as already applied, %s held until their transaction ends, "
            "%s released; position %s",
            pipeline,
            report.applied,
            report.dead_lettered,
            report.parked,
            report.filtered,
            report.skipped,
            batch.held,
            batch.released,
            report.position,
        )
        self._drained = not self.tracking
        return batch

    def _apply_once(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch:
        with self._transaction(pipeline) as connection:
            stored = read_checkpoint(connection, pipeline, lock=True)
            fresh, position = unapplied(results, stored.position if stored else None)
            settled = self.settle(connection, pipeline, fresh, markers, remap)
            report = self._applier.apply_in(
                connection, pipeline, settled.apply, positions=False
            )
            report.skipped = len(results) - len(fresh)
            report.position = position
            if position is not None and (stored is None or position != stored.position):
                write_checkpoint(connection, pipeline, position)
            fault_point("after_checkpoint")
            return HeldBatch(report, settled.apply, settled.held, settled.released)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _transaction(self, pipeline: str) -> Iterator[Connection]:
        applier = self._applier
        with (
            translate_errors(applier.dialect, f"pipeline {pipeline}"),
            applier.engine.connect() as connection,
            connection.begin(),
        ):
            yield connection

    def settle(
        self,
        connection: Connection,
        pipeline: str,
        fresh: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> Settled:
        """Store the open tail, release complete transactions; return what applies."""
        held = self._store.held(connection, pipeline)
        self._warn_if_old(pipeline, held)
        plan = plan_hold(held, fresh, markers, tracking=self.tracking)
        released = self._store.load(connection, pipeline, plan.release)
        self._check_counts(pipeline, held, plan, released, markers)

        self._store.release(connection, pipeline, plan.release)
        next_seq = held[-1].last_seq + 1 if held else 1
        self._store.hold(connection, pipeline, [r.event for r in plan.hold], next_seq)
        return Settled(
            [remap(event) for event in released] + plan.apply,
            held=len(plan.hold),
            released=len(released),
        )

    def _warn_if_old(self, pipeline: str, held: Sequence[HeldTransaction]) -> None:
        now = datetime.now(UTC)
        for transaction in held:
            age = now - transaction.held_since
            if age > self.warn_after:
                log.warning(
                    "pipeline %s: %s events of source transaction %s held for %s s "
                    "waiting for its END; they are applied when it or a later "
                    "transaction arrives",
                    pipeline,
                    transaction.events,
                    transaction.transaction_id,
                    int(age.total_seconds()),
                )

    def _check_counts(
        self,
        pipeline: str,
        held: Sequence[HeldTransaction],
        plan: HoldPlan,
        released: Sequence[ChangeEvent],
        markers: Sequence[TransactionMarker],
    ) -> None:
        ends = {m.transaction_id: m for m in markers if m.status == "END"}
        counts = _event_counts(released, plan.apply)
        for transaction in held:
            if transaction.transaction_id not in plan.release:
                continue
            end = ends.get(transaction.transaction_id)
            if end is None:
                log.warning(
                    "pipeline %s: source transaction %s ended without an END record "
                    "(%s); its %s held events are applied",
                    pipeline,
                    transaction.transaction_id,
                    "a later transaction arrived"
                    if self.tracking
                    else "the connector no longer sends transaction metadata",
                    transaction.events,
                )
            elif end.event_count is not None and (
                counts.get(end.transaction_id, 0) != end.event_count
            ):
                log.warning(
                    "pipeline %s: source transaction %s ended with %s events but "
                    "%s reached the bridge; they are applied as they are",
                    pipeline,
                    end.transaction_id,
                    end.event_count,
                    counts.get(end.transaction_id, 0),
                )


def _event_counts(
    released: Sequence[ChangeEvent], applied: Sequence[MapResult]
) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    events = [*released, *(r.event for r in applied if tracked(r))]
    for event in events:
        if event.transaction_id is not None:
            counts[event.transaction_id] = counts.get(event.transaction_id, 0) + 1
    return counts


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
