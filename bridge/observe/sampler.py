"""Samples lag and throughput into a :class:`~bridge.observe.status.History`.

The status page draws lag and throughput over time; something has to take the samples.
:class:`StatusSampler` reads the lag tracker and the applied-event totals of the metrics
at a fixed interval; throughput is the applied events between two samples divided by
the monotonic time between them.
"""

from __future__ import annotations

import logging
import threading

from bridge.observe.lag import Clock, LagTracker, SystemClock
from bridge.observe.metrics import Metrics
from bridge.observe.status import History

logger = logging.getLogger(__name__)


class StatusSampler:
    """One sample per pipeline on :meth:`sample`, or every interval in a thread."""

    def __init__(
        self, metrics: Metrics, lag: LagTracker, history: History,
        clock: Clock | None = None,
    ) -> None:
        self._metrics = metrics
        self._lag = lag
        self._history = history
        self._clock = clock or SystemClock()
        self._previous: tuple[float, dict[str, int]] | None = None
        self._rates: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        """Record lag and events per second of every pipeline seen so far."""
        moment, at = self._clock.monotonic(), self._clock.now()
        totals = self._metrics.applied_totals()

        if self._previous is not None:
            self._rates = _rates(self._previous, (moment, totals))
        self._previous = (moment, totals)

        for pipeline in sorted(set(totals) | set(self._lag.pipelines())):
            rate = self._rates.get(pipeline)
            self._history.record(pipeline, at, self._lag.lag(pipeline), rate)

    def events_per_second(self, pipeline: str) -> float | None:
        """The throughput between the last two samples; None before two samples."""
        return self._rates.get(pipeline)

    def start(self, interval_seconds: float) -> None:
        """Sample every *interval_seconds* in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval_seconds,), name="observe-sampler",
            daemon=True,
        )
        self._thread.start()

    def _run(self, interval_seconds: float) -> None:
        while not self._stop.wait(interval_seconds):
            self.sample()
            logger.debug("status sample taken")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _rates(
    before: tuple[float, dict[str, int]], after: tuple[float, dict[str, int]]
) -> dict[str, float]:
    elapsed = after[0] - before[0]
    if elapsed <= 0:
        return {}
    return {
        pipeline: (total - before[1].get(pipeline, 0)) / elapsed
        for pipeline, total in after[1].items()
    }
