"""Heartbeat lag, fake clock: it rises while nothing is applied, falls after a beat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.observe.lag import HEARTBEAT_TABLE, LagTracker

T0 = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    """Wall clock and monotonic clock moved by hand, and independently."""

    def __init__(self) -> None:
        self.wall = T0
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall


def test_lag_rises_without_heartbeats_and_falls_after_one() -> None:
    clock = FakeClock()
    tracker = LagTracker(clock)

    assert tracker.lag("pg_to_mysql") is None

    # The beat written at T0 arrives 1.5 s later.
    clock.advance(1.5)
    tracker.heartbeat_applied("pg_to_mysql", T0, seq=1)
    assert tracker.lag("pg_to_mysql") == 1.5
    assert tracker.last_heartbeat_seq("pg_to_mysql") == 1

    clock.advance(10)
    assert tracker.lag("pg_to_mysql") == 11.5
    clock.advance(20)
    assert tracker.lag("pg_to_mysql") == 31.5

    # The pipeline catches up: the beat of T0+30s is applied at T0+31.5s+0.5s.
    clock.advance(0.5)
    tracker.heartbeat_applied("pg_to_mysql", T0 + timedelta(seconds=30), seq=7)
    assert tracker.lag("pg_to_mysql") == 2.0
    assert tracker.last_heartbeat_seq("pg_to_mysql") == 7


def test_wall_clock_step_after_apply_does_not_move_the_lag() -> None:
    clock = FakeClock()
    tracker = LagTracker(clock)
    clock.advance(2)
    tracker.heartbeat_applied("mysql_to_pg", T0)

    clock.wall += timedelta(hours=1)  # NTP step: wall clock only
    clock.mono += 3

    assert tracker.lag("mysql_to_pg") == 5.0


def test_older_heartbeat_replayed_keeps_the_newer_one() -> None:
    clock = FakeClock()
    tracker = LagTracker(clock)
    clock.advance(1)
    tracker.heartbeat_applied("pg_to_mysql", T0)
    clock.advance(1)
    tracker.heartbeat_applied("pg_to_mysql", T0 - timedelta(seconds=60))

    assert tracker.lag("pg_to_mysql") == 2.0


def test_table_lag_uses_the_later_of_commit_and_heartbeat() -> None:
    clock = FakeClock()
    tracker = LagTracker(clock)
    clock.advance(4)
    tracker.commit_applied("pg_to_mysql", "xyxf_jg", T0)  # 4 s latency
    assert tracker.table_lag("pg_to_mysql", "xyxf_jg") == 4.0

    clock.advance(56)  # idle table, no heartbeat yet: only the commit tells
    assert tracker.table_lag("pg_to_mysql", "xyxf_jg") == 60.0

    tracker.heartbeat_applied("pg_to_mysql", T0 + timedelta(seconds=59))
    assert tracker.table_lag("pg_to_mysql", "xyxf_jg") == 1.0
    assert tracker.last_commit("pg_to_mysql", "xyxf_jg") == T0

    assert [(r.pipeline, r.table, r.seconds) for r in tracker.lag_readings()] == [
        ("pg_to_mysql", HEARTBEAT_TABLE, 1.0),
        ("pg_to_mysql", "xyxf_jg", 1.0),
    ]
    assert tracker.pipelines() == ["pg_to_mysql"]


def test_source_clock_ahead_counts_as_zero_lag() -> None:
    clock = FakeClock()
    tracker = LagTracker(clock)
    tracker.heartbeat_applied("pg_to_mysql", T0 + timedelta(seconds=3))

    assert tracker.lag("pg_to_mysql") == 0.0


def test_naive_source_time_is_refused() -> None:
    tracker = LagTracker(FakeClock())

    with pytest.raises(ValueError) as info:
        tracker.heartbeat_applied("pg_to_mysql", datetime(2026, 12, 3, 9, 0))

    assert str(info.value) == (
        "lag needs an aware source time, got naive 2026-12-03T09:00:00; "
        "decode source times to UTC before reporting them"
    )
