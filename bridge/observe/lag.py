"""End-to-end lag from heartbeats, and PostgreSQL replication-slot retention.

The bridge updates ``bridge.heartbeat(pipeline, beat_at, seq)`` in each source at an
interval (:mod:`bridge.capture.heartbeat`). The update travels through the pipeline like
any change; when the pipeline applies it, it calls
:meth:`LagTracker.heartbeat_applied` with the source's beat time. Lag is *now* minus
the newest source time known applied, so an idle source shows about one heartbeat
interval and a stuck pipeline a growing number.

The wall clock is read once, when something is applied, to compare with the source's
time; from then on the lag grows with the monotonic clock, so a wall-clock step on this
machine does not make the lag jump.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

import sqlalchemy as sa

HEARTBEAT_TABLE: Final = "bridge.heartbeat"
"""The table label under which a pipeline's heartbeat lag is reported."""


class Clock(Protocol):
    """The two clocks lag needs; tests pass a fake one."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Applied:
    """A source time applied, and how far behind it was when applied."""

    source_time: datetime
    behind_at_apply: float
    applied_monotonic: float


@dataclass(frozen=True, slots=True)
class LagReading:
    pipeline: str
    table: str
    seconds: float
    source_time: datetime


class LagTracker:
    """Lag per pipeline (heartbeats) and per (pipeline, table) (applied commits).

    A table's lag is measured from the later of its last applied commit time and its
    pipeline's last applied heartbeat: a heartbeat applied after a table's last change
    proves that nothing newer for the table was waiting.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._beats: dict[str, _Applied] = {}
        self._seqs: dict[str, int] = {}
        self._commits: dict[tuple[str, str], _Applied] = {}

    def heartbeat_applied(
        self, pipeline: str, beat_at: datetime, seq: int | None = None
    ) -> None:
        """The pipeline applied the heartbeat the source wrote at *beat_at*."""
        applied = self._applied(beat_at, self._beats.get(pipeline))
        self._beats[pipeline] = applied
        if seq is not None:
            self._seqs[pipeline] = seq

    def commit_applied(self, pipeline: str, table: str, committed_at: datetime) -> None:
        """The pipeline applied a change of *table* committed at *committed_at*."""
        key = (pipeline, table)
        self._commits[key] = self._applied(committed_at, self._commits.get(key))

    def _applied(self, source_time: datetime, previous: _Applied | None) -> _Applied:
        _require_aware(source_time)
        if previous is not None and previous.source_time >= source_time:
            # Replays and redelivered batches must not move the lag backwards in time.
            return previous

        behind = (self._clock.now() - source_time).total_seconds()
        return _Applied(source_time, max(behind, 0.0), self._clock.monotonic())

    def _seconds(self, applied: _Applied) -> float:
        elapsed = self._clock.monotonic() - applied.applied_monotonic
        return applied.behind_at_apply + elapsed

    def lag(self, pipeline: str) -> float | None:
        """Seconds behind by the last applied heartbeat; None before the first one."""
        beat = self._beats.get(pipeline)
        return None if beat is None else self._seconds(beat)

    def since_heartbeat(self, pipeline: str) -> float | None:
        """Seconds since a heartbeat of *pipeline* was last applied (monotonic)."""
        beat = self._beats.get(pipeline)
        if beat is None:
            return None
        return self._clock.monotonic() - beat.applied_monotonic

    def last_heartbeat_seq(self, pipeline: str) -> int | None:
        return self._seqs.get(pipeline)

    def table_lag(self, pipeline: str, table: str) -> float | None:
        """Seconds behind for one table; None before anything was applied."""
        commit = self._commits.get((pipeline, table))
        beat = self._beats.get(pipeline)
        if commit is None:
            return None if beat is None else self._seconds(beat)
        return self._table_seconds(commit, beat)

    def _table_seconds(self, commit: _Applied, beat: _Applied | None) -> float:
        seconds = self._seconds(commit)
        return seconds if beat is None else min(seconds, self._seconds(beat))

    def last_commit(self, pipeline: str, table: str) -> datetime | None:
        applied = self._commits.get((pipeline, table))
        return None if applied is None else applied.source_time

    def pipelines(self) -> list[str]:
        names = set(self._beats) | {pipeline for pipeline, _ in self._commits}
        return sorted(names)

    def readings(self) -> Iterator[tuple[str, str, float]]:
        """``(pipeline, table, seconds)`` for the metrics gauge, heartbeat rows too."""
        for reading in self.lag_readings():
            yield reading.pipeline, reading.table, reading.seconds

    def lag_readings(self) -> list[LagReading]:
        readings = [
            LagReading(pipeline, HEARTBEAT_TABLE, self._seconds(beat), beat.source_time)
            for pipeline, beat in sorted(self._beats.items())
        ]
        for (pipeline, table), commit in sorted(self._commits.items()):
            seconds = self._table_seconds(commit, self._beats.get(pipeline))
            readings.append(LagReading(pipeline, table, seconds, commit.source_time))
        return readings


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError(
            f"lag needs an aware source time, got naive {moment.isoformat()}; "
            "decode source times to UTC before reporting them"
        )


_SLOT_RETENTION = sa.text(
    "SELECT slot_name,"
    " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained"
    " FROM pg_replication_slots"
    " WHERE restart_lsn IS NOT NULL"
    " ORDER BY slot_name"
)


def read_slot_retention(connection: sa.Connection) -> dict[str, int]:
    """WAL bytes each PostgreSQL replication slot holds back, by slot name.

    Slots that reserve no WAL yet (no ``restart_lsn``) are left out. Any account may
    run this: ``pg_replication_slots`` and ``pg_current_wal_lsn()`` need no grant.
    """
    rows = connection.execute(_SLOT_RETENTION)
    return {str(name): int(retained) for name, retained in rows}
