"""The bridge's own heartbeat: a row per pipeline written into its source.

Every interval a small thread upserts ``bridge.heartbeat(pipeline, beat_at, seq)`` in
the pipeline's source database as the capture account. The row travels the whole path
like any change (capture -> decode -> :class:`bridge.pipeline.direction.Direction` ->
:meth:`bridge.observe.lag.LagTracker.heartbeat_applied`), so lag is measured end to end.

The bridge writes the row rather than Debezium's ``heartbeat.action.query``: Debezium
opens that query's connection once and never re-opens it after the source restarts,
which froze the heartbeat (and the lag) until the bridge restarted. Here any error
drops the connection pool, and the next beat connects afresh. ``beat_at`` is this
machine's UTC clock, the same clock lag is read against, so a source server's clock
does not enter the lag.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa

from bridge.errors import database_message

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_SECONDS = 5

_UPSERT = {
    "postgres": sa.text(
        "INSERT INTO bridge.heartbeat (pipeline, beat_at, seq) VALUES (:p, :at, 1) "
        "ON CONFLICT (pipeline) DO UPDATE SET beat_at = excluded.beat_at, "
        "seq = bridge.heartbeat.seq + 1"
    ),
    "mysql": sa.text(
        "INSERT INTO bridge.heartbeat (pipeline, beat_at, seq) VALUES (:p, :at, 1) "
        "ON DUPLICATE KEY UPDATE beat_at = VALUES(beat_at), seq = seq + 1"
    ),
}


class BeatSink(Protocol):
    """Where beats go; the writer's seam (tests pass a fake)."""

    def write(self, pipeline: str, beat_at: datetime) -> None:
        """Upsert the pipeline's heartbeat row; raise on any failure."""

    def reset(self) -> None:
        """Forget every open connection, so the next write connects afresh."""

    def close(self) -> None: ...


class SourceSink:
    """``bridge.heartbeat`` in a source database, through SQLAlchemy."""

    def __init__(self, url: str, kind: str) -> None:
        """*kind* is the connector's source kind: ``postgres`` or ``mysql``."""
        self._statement = _UPSERT[kind]
        # MySQL DATETIME has no zone: the column holds UTC, written naive.
        self._naive = kind == "mysql"
        self._engine = sa.create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
            connect_args={"connect_timeout": _CONNECT_TIMEOUT_SECONDS},
        )

    def write(self, pipeline: str, beat_at: datetime) -> None:
        at = beat_at.replace(tzinfo=None) if self._naive else beat_at
        with self._engine.begin() as connection:
            connection.execute(self._statement, {"p": pipeline, "at": at})

    def reset(self) -> None:
        self._engine.dispose()

    def close(self) -> None:
        self._engine.dispose()


@dataclass(frozen=True, slots=True)
class BeatHealth:
    """The writer's last attempt, for the readiness check."""

    ok: bool
    """The last write succeeded (False before the first attempt)."""
    error: str | None
    """The last failure's message while an outage lasts."""
    failing_seconds: float | None
    """How long the current outage has lasted; None when the last write succeeded."""


class HeartbeatWriter:
    """Writes one pipeline's heartbeat row every *interval* seconds until stopped."""

    def __init__(
        self,
        pipeline: str,
        sink: BeatSink,
        interval: float,
        *,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pipeline = pipeline
        self.interval = interval
        self._sink = sink
        self._now = now or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ok = False
        self._error: str | None = None
        self._failing_since: float | None = None

    def beat(self) -> bool:
        """Write one heartbeat; True when it was written. Never raises."""
        try:
            self._sink.write(self.pipeline, self._now())
        except Exception as exc:  # any failure: reconnect on the next beat
            self._failed(exc)
            return False
        self._succeeded()
        return True

    def _failed(self, exc: Exception) -> None:
        message = database_message(exc)
        if self._failing_since is None:
            self._failing_since = self._monotonic()
            log.warning(
                "pipeline %s: cannot write its heartbeat into the source (%s); "
                "retrying every %s s with a new connection, lag grows meanwhile",
                self.pipeline,
                message,
                self.interval,
            )
        self._ok, self._error = False, message
        self._sink.reset()

    def _succeeded(self) -> None:
        if self._failing_since is not None:
            log.info(
                "pipeline %s: heartbeat written into the source again after %.1f s",
                self.pipeline,
                self._monotonic() - self._failing_since,
            )
        self._ok, self._error, self._failing_since = True, None, None

    def health(self) -> BeatHealth:
        failing = self._failing_since
        seconds = None if failing is None else self._monotonic() - failing
        return BeatHealth(self._ok, self._error, seconds)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{self.pipeline}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop beating and close the connections; waits for a beat in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_CONNECT_TIMEOUT_SECONDS * 3)
        self._sink.close()
