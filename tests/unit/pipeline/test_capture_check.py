"""The ``/readyz`` capture check judged by the bridge's own heartbeat, fake clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from bridge.capture.embedded import EngineState
from bridge.capture.heartbeat import HeartbeatWriter
from bridge.observe.lag import LagTracker
from bridge.observe.metrics import Metrics
from bridge.pipeline.runner import Bridge

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PIPELINE = "gsxt-to-xyzg"
REFUSED = "(2003, \"Can't connect to MySQL server on '127.0.0.1'\")"


class Clock:
    def __init__(self) -> None:
        self.mono = 500.0

    def advance(self, seconds: float) -> None:
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.mono - 500.0)


class Sink:
    def __init__(self) -> None:
        self.down = False

    def write(self, pipeline: str, beat_at: datetime) -> None:
        if self.down:
            raise ConnectionError(REFUSED)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def _bridge(clock: Clock, sink: Sink, *, applying: bool = False) -> Bridge:
    pipeline = SimpleNamespace(
        config=SimpleNamespace(name=PIPELINE),
        direction=SimpleNamespace(applying=applying),
    )
    config = SimpleNamespace(observe=SimpleNamespace(heartbeat_seconds=1.0))
    bridge = Bridge(
        config=cast(Any, config),
        pipelines=[cast(Any, pipeline)],
        metrics=Metrics(),
        lag=LagTracker(clock),
    )
    bridge.capture = cast(
        Any, SimpleNamespace(states={"necips-outcomes": EngineState.STREAMING})
    )
    bridge.heartbeats[PIPELINE] = HeartbeatWriter(
        PIPELINE, sink, 1.0, now=clock.now, monotonic=clock.monotonic
    )
    return bridge


def test_capture_delivering_no_heartbeat_while_the_source_takes_them_is_unhealthy() -> (
    None
):
    """Pins: capture "ok" while the engine said streaming but delivered nothing."""
    clock, sink = Clock(), Sink()
    bridge = _bridge(clock, sink)
    writer = bridge.heartbeats[PIPELINE]
    writer.beat()
    bridge.lag.heartbeat_applied(PIPELINE, clock.now())

    clock.advance(15.0)
    writer.beat()
    at_bound = bridge._capture_check()
    clock.advance(1.5)
    writer.beat()

    assert at_bound is None
    assert bridge._capture_check() == (
        f"pipeline {PIPELINE}: no heartbeat came through capture for 16.5 s "
        "(over 15.0 s) although the bridge writes it into the source"
    )


def test_a_source_refusing_the_heartbeat_makes_capture_unhealthy() -> None:
    clock, sink = Clock(), Sink()
    bridge = _bridge(clock, sink)
    writer = bridge.heartbeats[PIPELINE]
    sink.down = True

    writer.beat()
    clock.advance(3.0)

    assert bridge._capture_check() == (
        f"pipeline {PIPELINE}: its source has refused the heartbeat for 3.0 s "
        f"({REFUSED})"
    )


def test_a_batch_held_by_the_apply_stage_is_not_blamed_on_capture() -> None:
    """Pins: a target outage reported as a capture failure."""
    clock, sink = Clock(), Sink()
    bridge = _bridge(clock, sink, applying=True)
    writer = bridge.heartbeats[PIPELINE]
    bridge.lag.heartbeat_applied(PIPELINE, clock.now())

    clock.advance(60.0)
    writer.beat()

    assert bridge._capture_check() is None
