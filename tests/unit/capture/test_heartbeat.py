"""The heartbeat writer: reconnects after any error, logs each outage once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bridge.capture.heartbeat import BeatHealth, HeartbeatWriter

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
REFUSED = "(2003, \"Can't connect to MySQL server on '127.0.0.1'\")"


class FakeSink:
    """Fails while ``down``; records writes and resets."""

    def __init__(self) -> None:
        self.down = False
        self.writes: list[tuple[str, datetime]] = []
        self.resets = 0
        self.closed = False

    def write(self, pipeline: str, beat_at: datetime) -> None:
        if self.down:
            raise ConnectionError(REFUSED)
        self.writes.append((pipeline, beat_at))

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        self.closed = True


class Clocks:
    def __init__(self) -> None:
        self.seconds = 100.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds - 100.0)


def _writer(sink: FakeSink, clocks: Clocks) -> HeartbeatWriter:
    return HeartbeatWriter(
        "gsxt-to-xyzg", sink, 5.0, now=clocks.now, monotonic=clocks.monotonic
    )


def test_an_outage_resets_the_connection_on_every_failed_beat_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pins: a connection that died with the source never re-opened (frozen lag)."""
    sink, clocks = FakeSink(), Clocks()
    writer = _writer(sink, clocks)
    caplog.set_level(logging.INFO, logger="bridge.capture.heartbeat")

    assert writer.beat() is True
    sink.down = True
    results = []
    for _ in range(3):
        clocks.seconds += 5.0
        results.append(writer.beat())
    sink.down = False
    clocks.seconds += 5.0
    assert writer.beat() is True

    assert results == [False, False, False]
    assert sink.resets == 3
    assert sink.writes == [
        ("gsxt-to-xyzg", T0),
        ("gsxt-to-xyzg", T0 + timedelta(seconds=20)),
    ]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"pipeline gsxt-to-xyzg: cannot write its heartbeat into the source "
            f"({REFUSED}); retrying every 5.0 s with a new connection, lag grows "
            "meanwhile",
        ),
        (
            "INFO",
            "pipeline gsxt-to-xyzg: heartbeat written into the source again after "
            "15.0 s",
        ),
    ]


def test_health_names_the_error_and_how_long_the_outage_lasts() -> None:
    sink, clocks = FakeSink(), Clocks()
    writer = _writer(sink, clocks)

    before = writer.health()
    sink.down = True
    writer.beat()
    clocks.seconds += 7.5
    during = writer.health()
    sink.down = False
    writer.beat()

    assert before == BeatHealth(ok=False, error=None, failing_seconds=None)
    assert during == BeatHealth(ok=False, error=REFUSED, failing_seconds=7.5)
    assert writer.health() == BeatHealth(ok=True, error=None, failing_seconds=None)


def test_stop_ends_the_thread_and_closes_the_sink() -> None:
    sink = FakeSink()
    writer = HeartbeatWriter("xyzg-to-gsxt", sink, 0.01)

    writer.start()
    writer.stop()

    assert sink.closed is True
    assert sink.writes[0][0] == "xyzg-to-gsxt"
