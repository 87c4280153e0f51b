"""Lag and throughput samples for the page, with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.observe.lag import LagTracker
from bridge.observe.metrics import Metrics
from bridge.observe.sampler import StatusSampler
from bridge.observe.status import History, Sample

T0 = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.wall = T0
        self.mono = 10.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall


def test_samples_lag_and_events_per_second() -> None:
    clock, metrics, history = FakeClock(), Metrics(), History()
    lag = LagTracker(clock)
    sampler = StatusSampler(metrics, lag, history, clock)

    metrics.observe_batch("xyzg-to-gsxt", {("xyxf_jg", "c"): 10}, 0.1)
    clock.advance(1)
    lag.heartbeat_applied("xyzg-to-gsxt", T0)
    sampler.sample()  # first sample: no rate yet

    clock.advance(4)
    metrics.observe_batch("xyzg-to-gsxt", {("xyxf_jg", "u"): 30}, 0.1)
    metrics.observe_batch("gsxt-to-xyzg", {("E_CR_REPAIR", "c"): 8}, 0.1)
    sampler.sample()

    assert sampler.events_per_second("xyzg-to-gsxt") == 7.5
    assert sampler.events_per_second("gsxt-to-xyzg") == 2.0
    assert history.lag() == {
        "xyzg-to-gsxt": [Sample(T0 + timedelta(seconds=1), 1.0),
                         Sample(T0 + timedelta(seconds=5), 5.0)],
    }
    assert history.throughput() == {
        "xyzg-to-gsxt": [Sample(T0 + timedelta(seconds=5), 7.5)],
        "gsxt-to-xyzg": [Sample(T0 + timedelta(seconds=5), 2.0)],
    }


def test_history_keeps_the_newest_samples() -> None:
    history = History(size=2)
    for second in range(3):
        history.record("p", T0 + timedelta(seconds=second), float(second), None)

    assert history.lag() == {"p": [Sample(T0 + timedelta(seconds=1), 1.0),
                                   Sample(T0 + timedelta(seconds=2), 2.0)]}
    assert history.throughput() == {}
