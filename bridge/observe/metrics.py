"""Prometheus metrics of one bridge process, in a registry of their own.

Nothing is registered at import time: a :class:`Metrics` object creates its
``CollectorRegistry`` and every series in it, so tests and two pipelines in one process
never share counters by accident. The end-to-end lag gauge is read at scrape time from
a callable (usually :meth:`bridge.observe.lag.LagTracker.readings`), so a stalled
pipeline's lag grows between scrapes without anyone setting it; Debezium's own
streaming figures are read the same way from the embedded engines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from bridge.events import Operation

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

BATCH_SIZE_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
APPLY_SECONDS_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)

LAG_NAME: Final = "creditbridge_end_to_end_lag_seconds"
LAG_HELP: Final = (
    "Seconds between now and the source time up to which the target is known complete"
)

LagReadings = Callable[[], Iterable[tuple[str, str, float]]]
"""Yields ``(pipeline, table, lag seconds)`` at scrape time."""

SOURCE_GAUGES: Final = (
    (
        "creditbridge_source_millis_behind",
        "Debezium's MilliSecondsBehindSource: now minus the commit time of the last "
        "event its connector read",
        "millis_behind_source",
    ),
    (
        "creditbridge_source_queue_remaining",
        "Debezium's QueueRemainingCapacity: free places in the queue between its "
        "connector and the bridge (near 0: the bridge is the bottleneck)",
        "queue_remaining",
    ),
    (
        "creditbridge_source_queue_capacity",
        "Debezium's QueueTotalCapacity (the connector's max.queue.size)",
        "queue_capacity",
    ),
)


class SourceFigures(Protocol):
    """Debezium's streaming figures of one connector (None: not known yet)."""

    @property
    def millis_behind_source(self) -> int | None: ...

    @property
    def queue_remaining(self) -> int | None: ...

    @property
    def queue_capacity(self) -> int | None: ...


SourceReadings = Callable[[], Mapping[str, SourceFigures]]
"""Returns each pipeline's figures at scrape time; pipelines not streaming are left
out."""

TableCounts = Mapping[tuple[str, str | Operation], int]
"""Applied events of one batch by ``(table, operation)``."""


def operation_label(operation: str | Operation) -> str:
    """``create``, ``update``, ``delete`` or ``read`` for an Operation or op code."""
    codes = {op.value: op for op in Operation}
    if isinstance(operation, Operation):
        return operation.name.lower()
    if operation in codes:
        return codes[operation].name.lower()
    return operation


def error_label(error: str | BaseException) -> str:
    """The error class name used as the ``error_class`` label."""
    return error if isinstance(error, str) else type(error).__name__


class _LagCollector(Collector):
    def __init__(self) -> None:
        self.readings: LagReadings | None = None

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(LAG_NAME, LAG_HELP, labels=["pipeline", "table"])

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(LAG_NAME, LAG_HELP, labels=["pipeline", "table"])
        for pipeline, table, seconds in self.readings() if self.readings else ():
            family.add_metric([pipeline, table], seconds)
        yield family


class _SourceCollector(Collector):
    def __init__(self) -> None:
        self.readings: SourceReadings | None = None

    def describe(self) -> Iterator[Metric]:
        for name, help_text, _ in SOURCE_GAUGES:
            yield GaugeMetricFamily(name, help_text, labels=["pipeline"])

    def collect(self) -> Iterator[Metric]:
        readings = self.readings() if self.readings else {}
        for name, help_text, attribute in SOURCE_GAUGES:
            family = GaugeMetricFamily(name, help_text, labels=["pipeline"])
            for pipeline, figures in sorted(readings.items()):
                value = getattr(figures, attribute)
                if value is not None:
                    family.add_metric([pipeline], value)
            yield family


class Metrics:
    """Every series the bridge exports, and the few calls the pipeline makes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._applied_totals: dict[str, int] = {}
        self._lag = _LagCollector()
        self.registry.register(self._lag)
        self._sources = _SourceCollector()
        self.registry.register(self._sources)
        self._define_counters()
        self._define_distributions()
        self._define_gauges()

    def _define_counters(self) -> None:
        reg = self.registry
        self.events_captured = Counter(
            "creditbridge_events_captured_total",
            "Change events received from the source",
            ["pipeline", "table", "operation"], registry=reg,
        )
        self.events_applied = Counter(
            "creditbridge_events_applied_total",
            "Change events written to the target and checkpointed",
            ["pipeline", "table", "operation"], registry=reg,
        )
        self.dead_letters = Counter(
            "creditbridge_dead_letters_total",
            "Rows written to the dead-letter table",
            ["pipeline", "table"], registry=reg,
        )
        self.conflicts = Counter(
            "creditbridge_conflicts_total",
            "Outcomes whose newer decision won over an older one on the target",
            registry=reg,
        )
        self.retries = Counter(
            "creditbridge_retries_total",
            "Retries after a retryable error",
            ["pipeline", "error_class"], registry=reg,
        )
        self.errors = Counter(
            "creditbridge_errors_total",
            "Errors by class, retried or not",
            ["pipeline", "error_class"], registry=reg,
        )
        self.filtered = Counter(
            "creditbridge_filtered_total",
            "Events deliberately not applied (loop guard, privacy rule)",
            ["pipeline", "reason"], registry=reg,
        )

    def _define_distributions(self) -> None:
        self.batch_size = Histogram(
            "creditbridge_batch_size",
            "Events per applied batch",
            buckets=BATCH_SIZE_BUCKETS, registry=self.registry,
        )
        self.apply_seconds = Histogram(
            "creditbridge_apply_seconds",
            "Seconds to write and checkpoint one batch",
            buckets=APPLY_SECONDS_BUCKETS, registry=self.registry,
        )

    def _define_gauges(self) -> None:
        self.slot_retained_bytes = Gauge(
            "creditbridge_replication_slot_retained_bytes",
            "WAL bytes a PostgreSQL replication slot keeps from removal",
            ["slot"], registry=self.registry,
        )

    def read_lag_from(self, readings: LagReadings) -> None:
        """Take the lag gauge's series from *readings* at every scrape."""
        self._lag.readings = readings

    def read_sources_from(self, readings: SourceReadings) -> None:
        """Take Debezium's streaming gauges from *readings* at every scrape."""
        self._sources.readings = readings

    def observe_captured(
        self, pipeline: str, table: str, operation: str | Operation, count: int = 1
    ) -> None:
        """Count *count* events received from the source."""
        label = operation_label(operation)
        self.events_captured.labels(pipeline, table, label).inc(count)

    def observe_batch(
        self, pipeline: str, table_counts: TableCounts, seconds: float
    ) -> None:
        """Record one applied batch: events per (table, operation) and its duration."""
        for (table, operation), count in table_counts.items():
            label = operation_label(operation)
            self.events_applied.labels(pipeline, table, label).inc(count)

        size = sum(table_counts.values())
        self._applied_totals[pipeline] = self._applied_totals.get(pipeline, 0) + size
        self.batch_size.observe(size)
        self.apply_seconds.observe(seconds)

    def applied_totals(self) -> dict[str, int]:
        """Events applied so far per pipeline, for throughput sampling."""
        return dict(self._applied_totals)

    def observe_dead_letter(self, pipeline: str, table: str, count: int = 1) -> None:
        self.dead_letters.labels(pipeline, table).inc(count)

    def observe_conflict(self, count: int = 1) -> None:
        self.conflicts.inc(count)

    def observe_retry(self, pipeline: str, error: str | BaseException) -> None:
        """Count one retry and the error that caused it."""
        label = error_label(error)
        self.retries.labels(pipeline, label).inc()
        self.errors.labels(pipeline, label).inc()

    def observe_error(self, pipeline: str, error: str | BaseException) -> None:
        """Count an error that is not retried (dead-lettered row, stop)."""
        self.errors.labels(pipeline, error_label(error)).inc()

    def observe_filtered(self, pipeline: str, reason: str, count: int = 1) -> None:
        self.filtered.labels(pipeline, reason).inc(count)

    def set_slot_retained(self, slot: str, retained_bytes: int) -> None:
        self.slot_retained_bytes.labels(slot).set(retained_bytes)

    def exposition(self) -> bytes:
        """The registry in Prometheus text format, as served on ``/metrics``."""
        return generate_latest(self.registry)
