"""Whole source transactions on the embedded path: hold the open tail, unacknowledged.

The embedded engine hands over batches of at most ``max.batch.size`` records, so a
source transaction cut by a batch boundary would otherwise reach the staging table in
two target transactions, and a reader could see half of it.

With ``provide.transaction.metadata=true`` each change event names its transaction
and an END marker says when the transaction is complete. :class:`TransactionHold`
applies a batch as one target transaction up to where the transaction still open at
its end begins. That tail stays in memory and is *not acknowledged* to Debezium: the
handler tells the capture stage how many of the newest records it holds back
(:meth:`bridge.pipeline.direction.Direction.__call__`), so their offsets are not
flushed, and the checkpoint stops before the tail too. A crash or a stop loses only
memory: the tail is delivered again. When the END arrives, the tail is applied ahead
of the batch that brought it, in that batch's target transaction:

1. lock the checkpoint and drop the redelivered events it covers;
2. put the held tail in front of the batch's events and find the open transaction;
3. apply everything before the open transaction's first event, hold the rest;
4. move the checkpoint to the last applied event, never into the held tail.

Which transaction is open. A source delivers transactions one after another
(PostgreSQL's pgoutput and the MySQL binlog both send a transaction whole at its
commit), so at the end of a batch at most one transaction can be open: the one the
last tracked event belongs to, unless its END is in the batch. Whatever follows that
transaction's first event is held with it (events without metadata included), so
the checkpoint never passes a held event. If an END never comes (lost by a connector
restart between the last event and the END, or by turning the metadata off), the
arrival of a later transaction proves the tail complete; it is applied with a
WARNING. Events without transaction metadata (snapshot reads) are applied at once
unless they follow an open transaction. A tail held longer than ``warn_after`` is
reported at WARNING on every batch until it completes.

Earlier versions stored the tail in ``bridge.pending_event`` and moved the
checkpoint past it; the first batch of a run applies such stored events ahead of
everything and deletes them, so an upgrade loses nothing.

The tail is held in memory, about 3 KB per demo-sized event. A transaction whose
tail grows past ``max_held`` events is applied in parts from then on, with a WARNING:
memory stays bounded, and only that transaction gives up the guarantee (readers may
see it half-applied until its END). Its records stay unacknowledged until the END,
so a restart delivers it again from its first event and the checkpoint skips the
parts already applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.apply.applier import Applier, ApplyReport, translate_errors
from bridge.apply.eventjson import event_from_json
from bridge.apply.faults import fault_point
from bridge.apply.retry import run_with_retries
from bridge.apply.schema import pending_event
from bridge.checkpoint import read_checkpoint, write_checkpoint
from bridge.checkpoint.ordering import unapplied
from bridge.decode.markers import TransactionMarker
from bridge.events import ChangeEvent, SourcePosition
from bridge.map.results import MapResult

log = logging.getLogger(__name__)

DEFAULT_WARN_AFTER = timedelta(minutes=5)
DEFAULT_MAX_HELD = 50_000
"""Events held for one open transaction before it is applied in parts: about
150 MB of demo-sized events, inside the 512 MB a pipeline's process may use."""

Remap = Callable[[ChangeEvent], MapResult]


@dataclass(slots=True)
class HoldPlan:
    """What one batch does: apply the complete head, hold the open tail."""

    apply: list[MapResult] = field(default_factory=list)
    hold: list[MapResult] = field(default_factory=list)
    open_transaction: str | None = None


@dataclass(slots=True)
class HeldBatch:
    """One committed batch: its report, the results it applied, and the tail held.

    ``held`` counts the events held in memory after the batch, ``released`` the
    events held by earlier batches that this one applied.
    """

    report: ApplyReport
    applied: list[MapResult]
    held: int = 0
    released: int = 0
    open_transaction: str | None = None


def tracked(result: MapResult) -> bool:
    """Whether the event came with transaction metadata, so its END will tell."""
    event = result.event
    return event.transaction_order is not None and event.transaction_id is not None


def plan_hold(
    window: Sequence[MapResult],
    markers: Sequence[TransactionMarker],
    *,
    tracking: bool = True,
) -> HoldPlan:
    """Split *window* (the held tail, then the batch's fresh results, in delivery
    order) into what applies now and what waits for its END.

    *markers* are the batch's BEGIN/END records. Without *tracking* (the connector
    no longer sends transaction metadata) nothing waits.
    """
    open_id = _open_transaction(window, markers) if tracking else None
    if open_id is None:
        return HoldPlan(apply=list(window))
    start = next(n for n, r in enumerate(window) if _belongs(r, open_id))
    return HoldPlan(list(window[:start]), list(window[start:]), open_id)


def _open_transaction(
    window: Sequence[MapResult], markers: Sequence[TransactionMarker]
) -> str | None:
    for result in reversed(window):
        if tracked(result):
            transaction_id = result.event.transaction_id
            ended = any(
                m.status == "END" and m.transaction_id == transaction_id
                for m in markers
            )
            return None if ended else transaction_id
    return None


def _belongs(result: MapResult, transaction_id: str) -> bool:
    return tracked(result) and result.event.transaction_id == transaction_id


class PendingStore:
    """``bridge.pending_event``, where earlier versions stored held tails."""

    def drain(self, connection: Connection, pipeline: str) -> list[ChangeEvent]:
        """Delete and return the stored events of *pipeline*, in delivery order."""
        table = pending_event
        query = (
            sa.select(table.c.event)
            .where(table.c.pipeline == pipeline)
            .order_by(table.c.seq)
        )
        events = [event_from_json(row.event) for row in connection.execute(query)]
        if events:
            connection.execute(table.delete().where(table.c.pipeline == pipeline))
        return events


@dataclass(slots=True)
class _Outcome:
    batch: HeldBatch
    hold: list[MapResult]


class TransactionHold:
    """Applies batches so that no source transaction is ever visible half-applied."""

    def __init__(
        self,
        applier: Applier,
        *,
        store: PendingStore | None = None,
        warn_after: timedelta = DEFAULT_WARN_AFTER,
        tracking: bool = True,
        max_held: int = DEFAULT_MAX_HELD,
    ) -> None:
        """Without *tracking* (a connector without transaction metadata) the first
        batch drains what an earlier version stored, and later ones go straight
        to the applier. An open transaction with more than *max_held* events is
        applied in parts."""
        self._applier = applier
        self._store = store or PendingStore()
        self.warn_after = warn_after
        self.tracking = tracking
        self.max_held = max_held
        self._held: list[MapResult] = []
        self._held_since: datetime | None = None
        self._drained = False
        self._parted: str | None = None
        """The open transaction being applied in parts, if any."""
        self._parted_applied = 0

    @property
    def held(self) -> int:
        """Events held in memory, waiting for their transaction's END."""
        return len(self._held)

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch:
        """Apply *results* in one target transaction; return after the commit."""
        if self._drained and not self.tracking:
            return HeldBatch(self._applier.apply_batch(pipeline, results), [*results])
        self._warn_if_old(pipeline)
        outcome = run_with_retries(
            lambda: self._apply_once(pipeline, results, markers, remap),
            self._applier.retry,
            f"batch of {len(results)} events for pipeline {pipeline}",
        )
        fault_point("after_commit")
        self._keep(outcome.hold)
        self._count_parts(outcome.batch)
        self._drained = True
        batch = outcome.batch
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
        return batch

    def _apply_once(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> _Outcome:
        # Runs again on a retry: nothing here changes self until the commit.
        with self._transaction(pipeline) as connection:
            stored = read_checkpoint(connection, pipeline, lock=True)
            checkpoint = stored.position if stored else None
            fresh, _ = unapplied(results, checkpoint)
            drained = self._drain(connection, pipeline, remap)
            plan = self.settle(pipeline, fresh, markers)
            report = self._applier.apply_in(
                connection, pipeline, drained + plan.apply, positions=False
            )
            report.skipped = len(results) - len(fresh)
            report.position = _last_position(checkpoint, plan.apply)
            if report.position is not None and report.position != checkpoint:
                write_checkpoint(connection, pipeline, report.position)
            fault_point("after_checkpoint")
            released = min(len(self._held), len(plan.apply))
            batch = HeldBatch(
                report,
                drained + plan.apply,
                held=len(plan.hold),
                released=released + len(drained),
                open_transaction=plan.open_transaction,
            )
            return _Outcome(batch, plan.hold)
        raise AssertionError("unreachable")  # pragma: no cover

    def _drain(
        self, connection: Connection, pipeline: str, remap: Remap
    ) -> list[MapResult]:
        if self._drained:
            return []
        events = self._store.drain(connection, pipeline)
        if events:
            log.warning(
                "pipeline %s: applying %s events an earlier version held in "
                "bridge.pending_event",
                pipeline,
                len(events),
            )
        return [remap(event) for event in events]

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
        pipeline: str,
        fresh: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
    ) -> HoldPlan:
        """The plan for *fresh* behind the held tail; warns about what it finds.

        Pure: the held tail changes only once the batch has committed.
        """
        plan = plan_hold([*self._held, *fresh], markers, tracking=self.tracking)
        open_id = plan.open_transaction
        if open_id is not None and (
            open_id == self._parted or len(plan.hold) > self.max_held
        ):
            if open_id != self._parted:
                log.warning(
                    "pipeline %s: source transaction %s has %s events waiting for "
                    "its END, over the limit of %s; it is applied in parts from now "
                    "on, and readers may see it half-applied until it ends",
                    pipeline,
                    open_id,
                    len(plan.hold),
                    self.max_held,
                )
            plan = HoldPlan(plan.apply + plan.hold, [], open_id)
        self._check_counts(pipeline, plan, markers)
        return plan

    def _count_parts(self, batch: HeldBatch) -> None:
        """Follow the transaction applied in parts, for its END's event count."""
        parted = batch.open_transaction if not batch.held else None
        if parted != self._parted:
            self._parted_applied = 0
        self._parted = parted
        if parted is not None:
            self._parted_applied += _event_counts(batch.applied).get(parted, 0)

    def _keep(self, hold: list[MapResult]) -> None:
        if not hold:
            self._held_since = None
        elif not self._held or self._held[0] is not hold[0]:
            self._held_since = datetime.now(UTC)
        self._held = hold

    def _warn_if_old(self, pipeline: str) -> None:
        if self._held_since is None:
            return
        age = datetime.now(UTC) - self._held_since
        if age > self.warn_after:
            log.warning(
                "pipeline %s: %s events of source transaction %s held for %s s "
                "waiting for its END; they are applied when it or a later "
                "transaction arrives",
                pipeline,
                len(self._held),
                self._held[0].event.transaction_id,
                int(age.total_seconds()),
            )

    def _check_counts(
        self,
        pipeline: str,
        plan: HoldPlan,
        markers: Sequence[TransactionMarker],
    ) -> None:
        ends = {m.transaction_id: m for m in markers if m.status == "END"}
        counts = _event_counts(plan.apply)
        if self._parted in counts:
            counts[self._parted] += self._parted_applied
        released = {
            r.event.transaction_id or "" for r in self._held if tracked(r)
        }
        # A transaction applied in parts is released while still open.
        released.discard(plan.open_transaction or "")
        for transaction_id in sorted(released & counts.keys()):
            end = ends.get(transaction_id)
            if end is None:
                log.warning(
                    "pipeline %s: source transaction %s ended without an END record "
                    "(%s); its %s held events are applied",
                    pipeline,
                    transaction_id,
                    "a later transaction arrived"
                    if self.tracking
                    else "the connector no longer sends transaction metadata",
                    counts[transaction_id],
                )
        for transaction_id, end in ends.items():
            if end.event_count is None or transaction_id not in counts:
                continue
            if counts[transaction_id] != end.event_count:
                log.warning(
                    "pipeline %s: source transaction %s ended with %s events but "
                    "%s reached the bridge; they are applied as they are",
                    pipeline,
                    transaction_id,
                    end.event_count,
                    counts[transaction_id],
                )


def _event_counts(applied: Sequence[MapResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in applied:
        transaction_id = result.event.transaction_id
        if tracked(result) and transaction_id is not None:
            counts[transaction_id] = counts.get(transaction_id, 0) + 1
    return counts


def _last_position(
    checkpoint: SourcePosition | None, applied: Sequence[MapResult]
) -> SourcePosition | None:
    """The checkpoint once *applied* is committed: the highest position among them."""
    _, position = unapplied(applied, checkpoint)
    return position
