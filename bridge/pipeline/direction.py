"""One direction of the bridge: decode, map and apply a batch of Debezium records.

A :class:`Direction` is the batch handler a capture transport calls. It returns only
after the target transaction holding the batch's rows, dead letters and checkpoint has
committed, so the transport may then acknowledge the batch to Debezium. On the Kafka
path, :meth:`Direction.write_in` does the same inside the transaction that also
advances the partition offsets.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from bridge.apply.applier import ApplyReport
from bridge.apply.pending import HeldBatch, Remap
from bridge.decode import PositionSequencer, RecordDecodeError, RecordDecoder
from bridge.decode.markers import TransactionMarker, decode_marker
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map import Mapping as CompiledMapping
from bridge.map.results import Filtered, MappingRef, MapResult, Rejection, TargetRow
from bridge.observe.lag import LagTracker
from bridge.observe.metrics import Metrics

log = logging.getLogger(__name__)

HEARTBEAT_REF = MappingRef(name="heartbeat", path="", version="")
NO_MAPPING_REF = MappingRef(name="(no mapping)", path="", version="")
"""The mapping named by dead letters that no mapping file produced."""
HEARTBEAT_REASON = "heartbeat"
_BEIJING = timezone(timedelta(hours=8))
_DEBEZIUM_HEARTBEAT_TOPIC = "__debezium-heartbeat"


class RecordLike(Protocol):
    """A raw Debezium record from either transport."""

    @property
    def key(self) -> str | None: ...

    @property
    def value(self) -> str | None: ...

    @property
    def topic(self) -> str: ...


class BatchApplier(Protocol):
    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        kafka_offsets: Mapping[tuple[str, int], int] | None = None,
    ) -> ApplyReport: ...

    def apply_in(
        self,
        connection: Connection,
        pipeline: str,
        results: Sequence[MapResult],
        *,
        positions: bool = True,
    ) -> ApplyReport: ...


class TransactionApplier(Protocol):
    """Applies batches in whole source transactions
    (:class:`bridge.apply.pending.TransactionHold`)."""

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch: ...


@dataclass(slots=True)
class DirectionTotals:
    """Running totals of one direction since start, for status and the demo."""

    batches: int = 0
    events: int = 0
    applied: int = 0
    dead_lettered: int = 0
    filtered: int = 0
    skipped: int = 0
    snapshot_rows: int = 0
    """Rows of the initial snapshot (reads at a snapshot position) applied so far."""
    streamed: bool = False
    """A change from the source's log (not its snapshot) was applied: the snapshot,
    if there was one, is over. Heartbeats count, so an idle source says so too."""
    last_position: SourcePosition | None = None
    last_commit: datetime | None = None
    last_applied_at: datetime | None = None
    provinces: dict[tuple[date, str], int] = field(default_factory=dict)

    def provinces_today(self, now: datetime) -> dict[str, int]:
        """Rows applied today (UTC+8, the registries' day) by province code."""
        today = now.astimezone(_BEIJING).date()
        return {code: n for (day, code), n in self.provinces.items() if day == today}


class Direction:
    """Decode -> map -> apply for one pipeline (one source, one target database)."""

    def __init__(
        self,
        name: str,
        decoder: RecordDecoder,
        mappings: Sequence[CompiledMapping],
        applier: BatchApplier,
        *,
        source: str,
        heartbeat_table: str = "bridge.heartbeat",
        metrics: Metrics | None = None,
        lag: LagTracker | None = None,
        province_column: str | None = None,
        transaction_topic: str | None = None,
        transactions: TransactionApplier | None = None,
    ) -> None:
        """*transaction_topic* is where the connector sends BEGIN/END records, if
        it does; with *transactions*, :meth:`apply` never commits part of a source
        transaction."""
        self.name = name
        self.source = source
        self._decoder = decoder
        self._mappings = {m.source_table: m for m in mappings}
        self._applier = applier
        self._heartbeat_table = heartbeat_table
        self._metrics = metrics
        self._lag = lag
        self._province_column = province_column
        self._sequencer = PositionSequencer()
        self._partition_sequencers: dict[tuple[str, int], PositionSequencer] = {}
        self._last_order: tuple[int, ...] = ()
        self._pending: tuple[list[MapResult], ApplyReport, float] | None = None
        self._transaction_topic = transaction_topic
        self._transactions = transactions
        self._markers: list[TransactionMarker] = []
        self._record_transactions: list[str | None] = []
        self._open_transaction: str | None = None
        self._unacknowledged: list[str | None] = []
        self.totals = DirectionTotals()
        self.applying = False
        """The engine's batch is in the handler (a stuck target holds capture)."""

    def __call__(self, records: Sequence[RecordLike], /) -> int:
        """The embedded engine's batch handler.

        Returns how many of the newest records delivered so far stay
        unacknowledged: those from the first record of a source transaction still
        open on (:mod:`bridge.apply.pending`), which Debezium delivers again after
        a restart.
        """
        self.applying = True
        try:
            self.apply(records)
        finally:
            self.applying = False
        return self._hold_back()

    def _hold_back(self) -> int:
        window = self._unacknowledged + self._record_transactions
        self._record_transactions = []
        if self._open_transaction is None:
            self._unacknowledged = []
            return 0
        if self._open_transaction in window:
            start = window.index(self._open_transaction)
        else:  # pragma: no cover - held events always came in a record
            start = 0
        self._unacknowledged = window[start:]
        return len(self._unacknowledged)

    def apply(
        self,
        records: Sequence[RecordLike],
        kafka_offsets: Mapping[tuple[str, int], int] | None = None,
    ) -> ApplyReport:
        """Decode, map and apply *records*; return after the target commit."""
        started = time.monotonic()
        results = self.map_records(records)
        if not results and not self._markers and not kafka_offsets:
            # Only tombstones: nothing to write, and no position to keep.
            return ApplyReport()
        if self._transactions is not None and kafka_offsets is None:
            return self._apply_whole_transactions(results, started)
        report = self._applier.apply_batch(self.name, results, kafka_offsets)
        self._after_commit(results, report, time.monotonic() - started)
        return report

    def _apply_whole_transactions(
        self, results: list[MapResult], started: float
    ) -> ApplyReport:
        """The embedded path with transaction metadata: the open tail is held."""
        assert self._transactions is not None
        markers, self._markers = self._markers, []
        batch = self._transactions.apply_batch(self.name, results, markers, self._route)
        self._open_transaction = batch.open_transaction
        self._after_commit(batch.applied, batch.report, time.monotonic() - started)
        return batch.report

    def write_in(
        self, connection: Connection, records: Sequence[RecordLike]
    ) -> ApplyReport:
        """Decode, map and apply *records* inside the caller's transaction.

        The Kafka path's batch step: exactly-once comes from the partition offsets the
        caller locks and advances in the same transaction, not from the checkpoint.
        Call :meth:`committed` after the commit for totals, metrics and lag.
        """
        started = time.monotonic()
        self._pending = None
        results = self.map_records(records)
        report = self._applier.apply_in(connection, self.name, results, positions=False)
        self._pending = (results, report, started)
        return report

    def committed(self) -> None:
        """The batch of the last :meth:`write_in` is committed: count and observe it."""
        if self._pending is None:
            return
        results, report, started = self._pending
        self._pending = None
        self._after_commit(results, report, time.monotonic() - started)

    def map_records(self, records: Sequence[RecordLike]) -> list[MapResult]:
        """Decode and map *records*; tombstones carry no change and are dropped.

        Transaction boundary records are kept aside for :meth:`apply`.
        """
        self._markers = []
        results: list[MapResult] = []
        transactions: list[str | None] = []
        for record in records:
            markers = len(self._markers)
            result = self._map_one(record)
            if result is not None:
                results.append(result)
                transactions.append(result.event.transaction_id)
            elif len(self._markers) > markers:
                transactions.append(self._markers[-1].transaction_id)
            else:
                transactions.append(None)
        self._record_transactions = transactions
        return results

    def _map_one(self, record: RecordLike) -> MapResult | None:
        if record.topic.startswith(_DEBEZIUM_HEARTBEAT_TOPIC):
            # Debezium's own heartbeat message carries its offset, not a row; the
            # row the bridge writes (bridge.capture.heartbeat) arrives as a change
            # of the heartbeat table.
            return None
        if record.topic == self._transaction_topic:
            return self._boundary(record)
        try:
            event = self._decoder.decode(
                record.key,
                record.value,
                sequencer=self._sequencer_for(record),
                topic=record.topic,
            )
        except RecordDecodeError as exc:
            return self._undecodable(record, exc)
        if event is None:
            return None
        self._last_order = event.position.order
        return self._route(event)

    def _route(self, event: ChangeEvent) -> MapResult:
        """The map result of a decoded event (also for held events released later)."""
        if event.qualified_table == self._heartbeat_table:
            return Filtered(event, HEARTBEAT_REF, HEARTBEAT_REASON)

        mapping = self._mappings.get(event.qualified_table)
        if mapping is None:
            return Rejection(
                event,
                NO_MAPPING_REF,
                "MappingError",
                f"no mapping of pipeline {self.name} reads {event.qualified_table}; "
                "add one and replay this dead letter",
            )
        return mapping.apply(event)

    def _boundary(self, record: RecordLike) -> Rejection | None:
        """A BEGIN/END record: kept for :meth:`apply`, never a row change."""
        try:
            marker = decode_marker(
                record.value, self._decoder.settings.connector, record.topic
            )
        except RecordDecodeError as exc:
            return self._undecodable(record, exc)
        self._markers.append(marker)
        return None

    def _sequencer_for(self, record: RecordLike) -> PositionSequencer:
        """The embedded stream's sequencer, or one per Kafka partition: only within a
        partition do records arrive in source order."""
        partition = getattr(record, "partition", None)
        if partition is None:
            return self._sequencer
        key = (record.topic, partition)
        if key not in self._partition_sequencers:
            self._partition_sequencers[key] = PositionSequencer()
        return self._partition_sequencers[key]

    def _undecodable(self, record: RecordLike, exc: RecordDecodeError) -> Rejection:
        """A dead letter for a record that could not be decoded at all.

        Without a known position it takes the last one seen, marked as a snapshot
        position so that the checkpoint does not treat it as already applied.
        """
        position = exc.position or SourcePosition(
            source=self.source, order=self._last_order, snapshot=True
        )
        schema, _, table = (exc.table or record.topic).rpartition(".")
        event = ChangeEvent(
            op=Operation.READ,
            source=self.source,
            schema=schema or None,
            table=table,
            key={},
            before=None,
            after=None,
            position=position,
            raw=record.value,
        )
        return Rejection(event, NO_MAPPING_REF, type(exc).__name__, str(exc))

    def _after_commit(
        self, results: Sequence[MapResult], report: ApplyReport, seconds: float
    ) -> None:
        totals = self.totals
        totals.batches += 1
        totals.events += len(results)
        totals.applied += report.applied
        totals.dead_lettered += report.dead_lettered
        totals.filtered += report.filtered
        totals.skipped += report.skipped
        if report.position is not None:
            totals.last_position = report.position
        totals.last_applied_at = datetime.now(UTC)

        counts: Counter[tuple[str, str]] = Counter()
        for result in results:
            self._observe_one(result, counts)
        if self._metrics is not None:
            self._observe_batch(results, report, counts, seconds)

    def _observe_batch(
        self,
        results: Sequence[MapResult],
        report: ApplyReport,
        counts: Counter[tuple[str, str]],
        seconds: float,
    ) -> None:
        assert self._metrics is not None
        captured = Counter(
            (r.event.table, r.event.op.value)
            for r in results
            if not (isinstance(r, Filtered) and r.reason == HEARTBEAT_REASON)
        )
        for (table, operation), count in captured.items():
            self._metrics.observe_captured(self.name, table, operation, count)
        self._metrics.observe_batch(self.name, counts, seconds)
        if report.parked:
            self._metrics.observe_conflict(report.parked)

    def _observe_one(self, result: MapResult, counts: Counter[tuple[str, str]]) -> None:
        event = result.event
        if not event.position.snapshot:
            self.totals.streamed = True
        if isinstance(result, Filtered) and result.reason == HEARTBEAT_REASON:
            self._heartbeat_applied(event)
            return
        if _snapshot_row(event):
            self.totals.snapshot_rows += 1
        if isinstance(result, TargetRow):
            # Only rows written count as applied; filtered and dead-lettered events
            # have counters of their own.
            counts[(event.table, event.op.value)] += 1
            self._count_province(result)
        if event.committed_at is not None:
            self.totals.last_commit = event.committed_at
            if self._lag is not None:
                self._lag.commit_applied(self.name, event.table, event.committed_at)
        if self._metrics is None:
            return
        if isinstance(result, Rejection):
            self._metrics.observe_dead_letter(self.name, event.table)
            self._metrics.observe_error(self.name, result.error_class)
        elif isinstance(result, Filtered):
            self._metrics.observe_filtered(self.name, result.reason)

    def _heartbeat_applied(self, event: ChangeEvent) -> None:
        row: Mapping[str, Any] = event.after or {}
        if row.get("pipeline") != self.name:
            # Another pipeline's (or a retired writer's) row in the same source.
            return
        beat_at = row.get("beat_at")
        if self._lag is not None and isinstance(beat_at, datetime):
            self._lag.heartbeat_applied(self.name, _aware(beat_at), row.get("seq"))

    def _count_province(self, row: TargetRow) -> None:
        code = row.values.get(self._province_column) if self._province_column else None
        if isinstance(code, str):
            day = datetime.now(_BEIJING).date()
            provinces = self.totals.provinces
            provinces[(day, code)] = provinces.get((day, code), 0) + 1


def _snapshot_row(event: ChangeEvent) -> bool:
    """A row read by the initial snapshot; an undecodable record's stand-in event
    (no row, a snapshot-marked position) is not one."""
    return (
        event.op is Operation.READ
        and event.position.snapshot
        and event.after is not None
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
