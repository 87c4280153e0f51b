"""``creditbridge run``: both directions from one run configuration.

Start-up is two phases. :func:`prepare` reads and checks everything (connector files,
mappings against the live schemas, decode settings against the source catalog) and
builds the objects, starting nothing; every problem found is reported at once. Then
:meth:`Bridge.run` starts the observe server and the captures and streams until
SIGTERM/SIGINT or a failure: embedded Debezium engines for ``transport: embedded``
pipelines, Kafka consumers (:mod:`bridge.pipeline.kafka_transport`) for
``transport: kafka`` ones.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bridge.apply.applier import Applier
from bridge.apply.engine import database_url, make_engine, our_scheme
from bridge.apply.pending import TransactionHold
from bridge.apply.retry import RetrySettings
from bridge.capture.connectors import (
    ConnectorFile,
    history_file,
    load_connector,
    offsets_file,
    resolve_references,
)
from bridge.capture.embedded import CaptureSource, EmbeddedCapture, EngineState
from bridge.capture.engine_metrics import StreamingReading
from bridge.capture.heartbeat import HeartbeatWriter, SourceSink
from bridge.capture.jvm import JvmOptions
from bridge.capture.slots import replication_slots
from bridge.checkpoint.store import Checkpoint, read_checkpoint
from bridge.decode import DecodeSettings, RecordDecoder, read_column_types
from bridge.decode.markers import transaction_topic
from bridge.errors import BridgeError, CaptureError, ConfigError, database_message
from bridge.map import Mapping as CompiledMapping
from bridge.map import MappingFileError, load_mapping
from bridge.map.check import check_files
from bridge.map.schemas import LiveSchemas, TableShape, UnreachableDatabaseError
from bridge.observe.health import Readiness, lag_check
from bridge.observe.http import ObserveServer
from bridge.observe.lag import LagTracker
from bridge.observe.logging import Redactor
from bridge.observe.metrics import Metrics
from bridge.observe.offline import DatabaseStatus
from bridge.observe.progress import STREAMING, SnapshotReading
from bridge.observe.sampler import StatusSampler
from bridge.observe.status import (
    DeadLetterEntry,
    History,
    MemoryStatusSource,
    PipelineStatus,
    StatusReport,
)
from bridge.pipeline.config import PipelineConfig, RunConfig, resolve_url
from bridge.pipeline.direction import Direction
from bridge.pipeline.kafka_transport import KafkaCaptures, kafka_capture

log = logging.getLogger(__name__)

# Debezium snapshot modes that take no initial snapshot of the rows.
_NO_SNAPSHOT_MODES = frozenset({"no_data", "never", "schema_only", "recovery"})

HEARTBEAT_TABLE = "bridge.heartbeat"
_SAMPLE_SECONDS = 5.0
_DATABASE_REFRESH_SECONDS = 5.0
_MIN_SILENCE_SECONDS = 15.0
_NOT_STARTED = "nothing was started"


@dataclass
class PreparedPipeline:
    config: PipelineConfig
    connector: ConnectorFile
    mappings: list[CompiledMapping]
    target: sa.Engine
    direction: Direction
    source_url: str = ""
    """The capture account's URL: the heartbeat writer's."""


@dataclass
class Bridge:
    """Everything built from a run configuration; :meth:`run` starts it."""

    config: RunConfig
    pipelines: list[PreparedPipeline]
    metrics: Metrics
    lag: LagTracker
    history: History = field(default_factory=History)
    capture: EmbeddedCapture | None = None
    consumers: KafkaCaptures | None = None
    server: ObserveServer | None = None
    heartbeats: dict[str, HeartbeatWriter] = field(default_factory=dict)
    status: _BridgeStatus | None = None
    _ended: threading.Event = field(default_factory=threading.Event)
    _stop_requested: threading.Event = field(default_factory=threading.Event)

    def run(self, *, on_ready: Callable[[Bridge], None] | None = None) -> None:
        """Stream until SIGTERM/SIGINT; raise when a capture fails for good."""
        self.capture = self._embedded_capture()
        self.consumers = self._kafka_consumers()
        if self._stop_requested.is_set():
            self.request_stop()  # asked before the captures existed
        self.status = _BridgeStatus(self)
        self.server = self._observe_server()
        sampler = StatusSampler(self.metrics, self.lag, self.history)
        self.server.start()
        sampler.start(_SAMPLE_SECONDS)
        threading.Thread(target=self._refresh_status, daemon=True).start()
        self._start_heartbeats()
        log.info(
            "bridge starting: %s pipelines; status on %s",
            len(self.pipelines),
            self.server.url,
        )
        try:
            if on_ready is not None:
                threading.Thread(
                    target=self._when_streaming, args=(on_ready,), daemon=True
                ).start()
            self._stream()
        finally:
            self._ended.set()
            self._say_unfinished_snapshots()
            self._stop_heartbeats()
            sampler.stop()
            self.server.stop()
            for pipeline in self.pipelines:
                pipeline.target.dispose()
            log.info("bridge stopped")

    def _say_unfinished_snapshots(self) -> None:
        """Name the embedded pipelines stopped before their initial snapshot was
        over (Debezium's own words were kept out of the log while it stopped)."""
        for pipeline in self.pipelines:
            if pipeline.config.transport != "embedded" or not _snapshot_unfinished(
                self.config.home, pipeline.connector
            ):
                continue
            log.info(
                "pipeline %s stopped before its initial snapshot was over (%d rows "
                "applied); the next start takes the snapshot again from the beginning "
                "and rewrites those rows, without duplicates",
                pipeline.config.name,
                pipeline.direction.totals.snapshot_rows,
            )

    def _start_heartbeats(self) -> None:
        """One writer per pipeline, whichever transport carries its changes."""
        interval = self.config.observe.heartbeat_seconds
        for pipeline in self.pipelines:
            sink = SourceSink(pipeline.source_url, pipeline.connector.kind)
            writer = HeartbeatWriter(pipeline.config.name, sink, interval)
            self.heartbeats[pipeline.config.name] = writer
            writer.start()

    def _stop_heartbeats(self) -> None:
        for writer in self.heartbeats.values():
            writer.stop()

    def _stream(self) -> None:
        """Run the embedded engines and the Kafka consumers until stopped."""
        consumers = self.consumers
        if consumers is None:
            assert self.capture is not None
            self.capture.run()
            return
        consumers.start()
        try:
            if self.capture is not None:
                self.capture.run()
            else:
                consumers.run_until_stopped()
        finally:
            consumers.stop()
        consumers.raise_if_failed()

    def _embedded_capture(self) -> EmbeddedCapture | None:
        sources = [
            CaptureSource(p.connector, p.direction)
            for p in self.pipelines
            if p.config.transport == "embedded"
        ]
        if not sources:
            return None
        jvm = JvmOptions.from_environment(
            heap=self.config.jvm.heap,
            log_level=self.config.jvm.debezium_log_level,
            crash_dir=self.config.home / "logs",
        )
        return EmbeddedCapture(sources, home=self.config.home, jvm=jvm)

    def _kafka_consumers(self) -> KafkaCaptures | None:
        captures = {
            p.connector.name: kafka_capture(
                self.config.kafka, p.connector, p.target, p.direction
            )
            for p in self.pipelines
            if p.config.transport == "kafka"
        }
        if not captures:
            return None
        embedded = self.capture
        on_end = embedded.request_stop if embedded is not None else None
        return KafkaCaptures(captures, on_end=on_end)

    def request_stop(self) -> None:
        """Stop streaming; safe from a signal handler, also before :meth:`run`
        (the bridge then stops as soon as its capture exists)."""
        self._stop_requested.set()
        if self.capture is not None:
            self.capture.request_stop()
        if self.consumers is not None:
            self.consumers.request_stop()

    def capture_states(self) -> dict[str, EngineState]:
        """Every source's capture state by connector name, whichever transport."""
        states = dict(self.capture.states) if self.capture is not None else {}
        if self.consumers is not None:
            for name, state in self.consumers.states.items():
                states[name] = EngineState(state.value)
        return states

    def resumes(self) -> bool:
        """Every pipeline is embedded and has Debezium offsets under ``home``: the
        engines carry on from them, and no snapshot is ahead."""
        return all(
            p.config.transport == "embedded"
            and _has_offsets(self.config.home, p.connector.name)
            for p in self.pipelines
        )

    def snapshot_readings(self) -> list[SnapshotReading]:
        """Rows snapshotted so far and the phase, per pipeline.

        The engine says it streams as soon as it runs, before its snapshot; only
        the first applied change from the log (a heartbeat, if nothing else) shows
        the snapshot is over.
        """
        states = self.capture_states()
        readings = []
        for pipeline in self.pipelines:
            totals = pipeline.direction.totals
            state = states.get(pipeline.connector.name, EngineState.CREATED)
            phase = state.value
            if state is EngineState.STREAMING:
                phase = STREAMING if totals.streamed else "snapshotting"
            readings.append(
                SnapshotReading(pipeline.config.name, totals.snapshot_rows, phase)
            )
        return readings

    def streaming_figures(self) -> dict[str, StreamingReading]:
        """Debezium's own streaming figures by pipeline, for the embedded engines
        that stream (Kafka Connect's live in the worker's JVM)."""
        if self.capture is None:
            return {}
        by_connector = self.capture.streaming_readings()
        return {
            p.config.name: by_connector[p.connector.name]
            for p in self.pipelines
            if p.connector.name in by_connector
        }

    def streaming(self) -> bool:
        states = self.capture_states().values()
        return bool(states) and all(s is EngineState.STREAMING for s in states)

    def _when_streaming(self, on_ready: Callable[[Bridge], None]) -> None:
        while not self.streaming():
            if self._ended.wait(timeout=0.2):
                return
        on_ready(self)

    def _observe_server(self) -> ObserveServer:
        readiness = Readiness()
        readiness.add_check("capture", self._capture_check)
        for pipeline in self.pipelines:
            name = pipeline.config.name
            readiness.add_check(
                f"lag:{name}",
                lag_check(self.lag, name, self.config.observe.max_lag_seconds),
            )
            readiness.add_check(f"target:{name}", _reachable(pipeline.target))
        self.metrics.read_lag_from(self.lag.readings)
        self.metrics.read_sources_from(self.streaming_figures)
        observe = self.config.observe
        return ObserveServer(
            self.metrics,
            self.status,
            readiness,
            host=observe.http_host,
            port=observe.http_port,
        )

    def _refresh_status(self) -> None:
        """Read dead letters and slot retention every few seconds until the end.

        The metrics need them even when nobody asks for the status page.
        """
        while not self._ended.is_set():
            if self.status is not None:
                self.status.refresh()
            self._ended.wait(_DATABASE_REFRESH_SECONDS)

    def _capture_check(self) -> str | None:
        states = self.capture_states()
        if not states:
            return "capture has not started"
        waiting = [
            f"{name} is {state.value}"
            for name, state in states.items()
            if state is not EngineState.STREAMING
        ]
        waiting.extend(self._silent_captures())
        return "; ".join(waiting) or None

    def _silent_captures(self) -> list[str]:
        """Pipelines whose capture is not delivering, judged by the heartbeat.

        Debezium's MySQL connector reconnects inside the engine, which still says
        it streams; the heartbeat row the bridge writes is what shows it. Capture is
        unhealthy while the source cannot be written at all, or while it can but no
        heartbeat has come through for max(3 intervals, 15 s) and no batch is held
        in the apply stage (a stuck target is the target check's to report).
        """
        interval = self.config.observe.heartbeat_seconds
        bound = max(3 * interval, _MIN_SILENCE_SECONDS)
        applying = {p.config.name for p in self.pipelines if p.direction.applying}
        problems = []
        for name, writer in self.heartbeats.items():
            health = writer.health()
            if health.failing_seconds is not None:
                problems.append(
                    f"pipeline {name}: its source has refused the heartbeat for "
                    f"{health.failing_seconds:.1f} s ({health.error})"
                )
                continue
            silent = self.lag.since_heartbeat(name)
            if name in applying or not health.ok or silent is None:
                continue
            if silent > bound:
                problems.append(
                    f"pipeline {name}: no heartbeat came through capture for "
                    f"{silent:.1f} s (over {bound:.1f} s) although the bridge "
                    "writes it into the source"
                )
        return problems


class _BridgeStatus:
    """The running bridge's answer to ``/api/status``."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge
        self._memory = MemoryStatusSource()
        self.history = bridge.history
        self._letters: list[DeadLetterEntry] = []
        self._pending: dict[str, int] = {}
        self._slots: dict[str, int] = {}
        self._read_at = -_DATABASE_REFRESH_SECONDS

    def refresh(self) -> None:
        """Dead letters and slot retention from the databases, at most every 5 s."""
        if time.monotonic() - self._read_at < _DATABASE_REFRESH_SECONDS:
            return
        letters: list[DeadLetterEntry] = []
        pending: dict[str, int] = {}
        slots: dict[str, int] = {}
        for pipeline in self._bridge.pipelines:
            name = pipeline.config.name
            try:
                with pipeline.target.connect() as connection:
                    side = DatabaseStatus(connection, Redactor(), [name])
                    letters.extend(side.recent_dead_letters())
                    pending.update(side.pending_dead_letters())
                slots.update(_slot_retention(pipeline))
            except sa.exc.SQLAlchemyError as exc:
                log.warning(
                    "pipeline %s: cannot read its dead letters or slot for the "
                    "status page: %s",
                    name,
                    database_message(exc),
                )
        letters.sort(key=lambda entry: entry.failed_at, reverse=True)
        self._letters, self._pending, self._slots = letters, pending, slots
        self._read_at = time.monotonic()
        for slot, retained in slots.items():
            self._bridge.metrics.set_slot_retained(slot, retained)

    def status(self) -> StatusReport:
        self.refresh()
        bridge = self._bridge
        states = bridge.capture_states()
        to_necips: dict[str, int] = {}
        to_credit_china: dict[str, int] = {}
        for pipeline in bridge.pipelines:
            totals = pipeline.direction.totals
            state = states.get(pipeline.connector.name, EngineState.CREATED)
            self._memory.set_pipeline(
                PipelineStatus(
                    name=pipeline.config.name,
                    direction=pipeline.config.description,
                    state=state.value,
                    lag_seconds=bridge.lag.lag(pipeline.config.name),
                    last_position=str(totals.last_position or "") or None,
                    last_applied_at=totals.last_applied_at,
                    applied_total=totals.applied,
                    dead_letters=self._pending.get(pipeline.config.name, 0),
                    slot_retained_bytes=self._slots.get(_slot_name(pipeline)),
                )
            )
            counts = (
                to_necips if pipeline.config.target == "necips" else (to_credit_china)
            )
            for code, count in totals.provinces_today(datetime.now(UTC)).items():
                counts[code] = counts.get(code, 0) + count
        self._memory.set_outcomes_today(to_necips, to_credit_china)
        report = self._memory.status()
        report.dead_letters.extend(self._letters)
        report.replication_slots.update(self._slots)
        report.lag_history.update(self.history.lag())
        report.throughput_history.update(self.history.throughput())
        return report


def _slot_name(pipeline: PreparedPipeline) -> str:
    return pipeline.connector.config.get("slot.name", "")


def _slot_retention(pipeline: PreparedPipeline) -> dict[str, int]:
    """WAL retained by the pipeline's PostgreSQL slot; nothing for other sources."""
    if pipeline.connector.kind != "postgres" or not pipeline.source_url:
        return {}
    wanted = _slot_name(pipeline)
    return {
        slot.name: slot.retained_bytes
        for slot in replication_slots(pipeline.source_url)
        if slot.name == wanted
    }


def _reachable(engine: sa.Engine) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            where = engine.url.render_as_string()
            return f"cannot reach {where}: {database_message(exc)}"
        return None

    return check


def prepare(
    config: RunConfig,
    *,
    metrics: Metrics | None = None,
    config_problems: Sequence[object] = (),
    snapshot_again: bool = False,
) -> Bridge:
    """Check everything and build the bridge; start nothing.

    Raises one :class:`ConfigError` listing every problem found, *config_problems*
    (those :func:`~bridge.pipeline.config.read_run_config` found) first. With
    *snapshot_again*, a pipeline whose embedded offsets are missing although its
    target holds a checkpoint takes a new snapshot instead of being refused.
    """
    metrics = metrics or Metrics()
    lag = LagTracker()
    problems = [str(problem) for problem in config_problems]
    pipelines = []
    for pipeline in config.pipelines:
        try:
            pipelines.append(
                _prepare_one(config, pipeline, metrics, lag, snapshot_again)
            )
        except (ConfigError, MappingFileError) as exc:
            problems.append(f"pipeline {pipeline.name}:\n{_indent(_unsaid(exc))}")
    if problems:
        for prepared in pipelines:
            prepared.target.dispose()
        raise ConfigError(
            "the bridge did not start; fix these problems and start again:\n"
            + "\n".join(problems)
        )
    return Bridge(config=config, pipelines=pipelines, metrics=metrics, lag=lag)


def _prepare_one(
    config: RunConfig,
    pipeline: PipelineConfig,
    metrics: Metrics,
    lag: LagTracker,
    snapshot_again: bool,
) -> PreparedPipeline:
    connector = load_connector(pipeline.connector)
    source_url, target_url = _resolve_urls(config, pipeline, connector)
    _warn_if_slot_busy(pipeline, connector, source_url)
    restart = _restart_problem(
        config, pipeline, connector, target_url, snapshot_again
    ) or _history_problem(config, pipeline, connector)
    try:
        prepared = _build_pipeline(
            config,
            pipeline,
            connector,
            (source_url, target_url),
            metrics=metrics,
            lag=lag,
        )
    except ConfigError as exc:
        raise ConfigError("\n".join(filter(None, [str(exc), restart]))) from exc
    if restart is not None:
        prepared.target.dispose()
        raise ConfigError(restart)
    return prepared


def _resolve_urls(
    config: RunConfig, pipeline: PipelineConfig, connector: ConnectorFile
) -> tuple[str, str]:
    """The capture and writer URLs; what is unset in either is reported together."""
    problems: list[str] = []
    source_url = target_url = ""
    try:
        source_url = capture_url(connector)
    except ConfigError as exc:
        problems += [line for line in str(exc).splitlines() if line != _NOT_STARTED]
    where = config.where("databases", pipeline.target, "url")
    try:
        resolved = resolve_url(config.database(pipeline.target).url, where=where)
        checked = database_url(resolved, where=where, then="fix it and start again")
        target_url = checked.render_as_string(hide_password=False)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join([*problems, _NOT_STARTED]))
    return source_url, target_url


def _warn_if_slot_busy(
    pipeline: PipelineConfig, connector: ConnectorFile, source_url: str
) -> None:
    """Say so when the pipeline's replication slot is being read already.

    Not a refusal: a bridge killed moments ago holds its slot until the server notices
    (``wal_sender_timeout``), and Debezium waits for the slot to come free. But two
    live readers of one slot take turns at it for ever.
    """
    if pipeline.transport != "embedded" or connector.kind != "postgres":
        return
    slot = connector.config.get("slot.name", "debezium")
    try:
        busy = any(s.name == slot and s.active for s in replication_slots(source_url))
    except CaptureError:
        return  # an unreachable source is reported by the mapping check
    if busy:
        log.warning(
            "pipeline %s: replication slot %s is being read already: by another "
            "bridge (one with another home: a second one with the same home is "
            "refused), by Kafka Connect, or by a bridge killed less than "
            "wal_sender_timeout ago; capture waits until the slot is free, and two "
            "live readers would take turns at it, so stop the other one",
            pipeline.name,
            slot,
        )


def _restart_problem(
    config: RunConfig,
    pipeline: PipelineConfig,
    connector: ConnectorFile,
    target_url: str,
    snapshot_again: bool,
) -> str | None:
    """Why starting would take an unplanned snapshot, None when it would not.

    The embedded engine keeps its offsets (and MySQL's schema history) under
    ``home``; without them Debezium snapshots the source again, even though the
    target's checkpoint shows the pipeline ran before: the sign of a ``home`` that
    moved, e.g. with a copied run configuration. Kafka Connect keeps its offsets in
    the target, so Kafka pipelines cannot lose them this way.
    """
    if pipeline.transport != "embedded" or _has_offsets(config.home, connector.name):
        return None
    try:
        held = _stored_checkpoint(target_url, pipeline.name)
    except sa.exc.SQLAlchemyError as exc:
        return (
            f"{config.where('databases', pipeline.target, 'url')}: cannot read "
            f"bridge.checkpoint as the writer account, to see whether pipeline "
            f"{pipeline.name} ran before: {database_message(exc)}; run the SQL "
            "`creditbridge setup` prints, then start again"
        )
    if held is None or held.position.snapshot:
        # Only snapshot rows were applied: Debezium redoes an unfinished snapshot
        # whatever its offsets say, so a new one is no loss.
        return None
    offsets = offsets_file(config.home, connector.name)
    if snapshot_again:
        log.warning(
            "pipeline %s: no offsets in %s although its target's checkpoint holds "
            "%s; taking a new snapshot as asked (--snapshot-again)",
            pipeline.name,
            offsets,
            held.position,
        )
        return None
    state = "holds none" if offsets.exists() else "does not exist"
    written = _utc(held.updated_at).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"{config.where('home')}: no Debezium offsets for connector "
        f"{connector.name} under {config.home} ({offsets} {state}), but the target "
        f"{pipeline.target} already holds a checkpoint for pipeline {pipeline.name}: "
        f"{held.position}, written {written} UTC; starting now would take a new "
        "snapshot of the source\n"
        "point home: at the state directory the bridge ran with before"
        f"{_relative_hint(config)}, or start with `{_run_command(config)} "
        "--snapshot-again` to take a new snapshot on purpose"
    )


def _run_command(config: RunConfig) -> str:
    if config.origin is None:
        return "creditbridge run"
    return f"creditbridge run --config {config.origin.path}"


def _history_problem(
    config: RunConfig, pipeline: PipelineConfig, connector: ConnectorFile
) -> str | None:
    """Why the MySQL engine would fail at start for want of its schema history.

    Debezium reads the binlog from the stored offsets with the table schemas its
    history file holds as of then; with offsets but no history it refuses to
    start ("the db history topic or its content is fully or partially missing").
    """
    if (
        pipeline.transport != "embedded"
        or connector.kind != "mysql"
        or connector.config.get("snapshot.mode") == "recovery"
        or not _has_offsets(config.home, connector.name)
    ):
        return None
    history = history_file(config.home, connector.name)
    try:
        if history.stat().st_size > 0:
            return None
        state = "is empty"
    except FileNotFoundError:
        state = "does not exist"
    offsets = offsets_file(config.home, connector.name)
    return (
        f"{config.where('home')}: the MySQL schema history of connector "
        f"{connector.name} ({history} {state}) is gone, but its offsets in "
        f"{offsets} are there; Debezium cannot read the binlog on from them without "
        "the table schemas the history holds\n"
        "copy the history file back from the state directory the bridge ran with "
        "before; or, if no captured table's columns changed since then, rebuild it "
        f'from the current schemas: set "snapshot.mode": "recovery" in '
        f"{connector.path} for one start, then set it back"
    )


def _utc(moment: datetime) -> datetime:
    # PostgreSQL answers in the session's time zone; MySQL's DATETIME holds UTC.
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def _relative_hint(config: RunConfig) -> str:
    if config.origin is None:
        return ""
    return (
        " (a relative path is relative to the config file's folder "
        f"{config.origin.folder})"
    )


def _snapshot_unfinished(home: Path, connector: ConnectorFile) -> bool:
    """Whether the engine's stored offsets leave *connector*'s initial snapshot to
    be taken (again) at the next start: none stored yet, or Debezium's mark of a
    snapshot in progress (``"snapshot":"INITIAL"``, on PostgreSQL with
    ``"snapshot_completed":false``; both keys go once it streams)."""
    if connector.config.get("snapshot.mode", "initial") in _NO_SNAPSHOT_MODES:
        return False
    stored = _stored_offsets(home, connector.name)
    if stored is None:
        return True
    return b'"snapshot":' in stored and b'"snapshot_completed":true' not in stored


def _has_offsets(home: Path, connector: str) -> bool:
    """Whether the engine's offset file under *home* holds offsets of *connector*."""
    return _stored_offsets(home, connector) is not None


def _stored_offsets(home: Path, connector: str) -> bytes | None:
    """The engine's offset file under *home*, if it holds offsets of *connector*.

    Kafka's ``FileOffsetBackingStore`` writes a serialized Java map whose keys are
    the JSON ``["<connector>", {partition}]``, stored as plain bytes.
    """
    try:
        stored = offsets_file(home, connector).read_bytes()
    except FileNotFoundError:
        return None
    return stored if f'["{connector}",'.encode() in stored else None


def _stored_checkpoint(target_url: str, pipeline: str) -> Checkpoint | None:
    """The pipeline's checkpoint in its target; None also when it cannot be reached.

    An unreachable target is the mapping check's to report, once.
    """
    try:
        engine = sa.create_engine(target_url, poolclass=sa.NullPool)
        connection = engine.connect()
    except (sa.exc.SQLAlchemyError, ValueError):
        return None
    try:
        with connection:
            return read_checkpoint(connection, pipeline)
    finally:
        engine.dispose()


def _build_pipeline(
    config: RunConfig,
    pipeline: PipelineConfig,
    connector: ConnectorFile,
    urls: tuple[str, str],
    *,
    metrics: Metrics,
    lag: LagTracker,
) -> PreparedPipeline:
    source_url, target_url = urls
    written = config.database(pipeline.target).url
    key = config.where("databases", pipeline.target, "url")
    _check_mappings(
        pipeline.mappings,
        [
            (source_url, f"the capture account of {connector.path}"),
            (target_url, _configured_as(key, written)),
        ],
    )
    mappings = [load_mapping(path) for path in pipeline.mappings]

    settings = DecodeSettings.from_connector_config(connector.name, connector.config)
    tables = [m.source_table for m in mappings] + [HEARTBEAT_TABLE]
    source = sa.create_engine(source_url)
    try:
        with source.connect() as connection:
            types = read_column_types(connection, tables)
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(
            f"{connector.path}: cannot read the column types of "
            f"{', '.join(tables)} as the capture account: {database_message(exc)}"
        ) from exc
    finally:
        source.dispose()
    settings.validate(types)

    target = make_engine(target_url)
    retry = RetrySettings(on_retry=partial(metrics.observe_retry, pipeline.name))
    applier = Applier.for_mappings(target, mappings, retry=retry)
    # With transaction metadata the embedded path holds an open transaction's tail in
    # the target until its END arrives (the Kafka path calls Direction.write_in);
    # without, a tail an earlier run held is applied by the first batch.
    boundaries = transaction_topic(connector.config)
    direction = Direction(
        pipeline.name,
        RecordDecoder(settings, types),
        mappings,
        applier,
        source=connector.kind,
        heartbeat_table=HEARTBEAT_TABLE,
        metrics=metrics,
        lag=lag,
        province_column=pipeline.province_column,
        transaction_topic=boundaries,
        transactions=TransactionHold(
            applier,
            tracking=boundaries is not None,
            max_held=pipeline.max_held_events,
        ),
    )
    return PreparedPipeline(
        pipeline, connector, mappings, target, direction, source_url=source_url
    )


def capture_url(connector: ConnectorFile) -> str:
    """A SQLAlchemy URL for the capture account the connector file names, with its
    references resolved (a :class:`ConfigError` lists those that are not set)."""
    database = {k: v for k, v in connector.config.items() if k.startswith("database.")}
    properties = resolve_references(connector, database)
    kind = connector.kind
    url = sa.URL.create(
        our_scheme("mysql" if kind == "mysql" else "postgresql"),
        username=properties.get("database.user"),
        password=properties.get("database.password"),
        host=properties.get("database.hostname"),
        port=int(properties.get("database.port") or 0) or None,
        database=properties.get("database.dbname"),
        query={"charset": "utf8mb4"} if kind == "mysql" else {},
    )
    return url.render_as_string(hide_password=False)


def _check_mappings(paths: Sequence[Path], accounts: Sequence[tuple[str, str]]) -> None:
    """Check *paths* against the live tables seen through *accounts*.

    *accounts* pairs each URL with where it was configured. A database that cannot be
    reached is reported as such, once, and the mappings are not checked against it:
    its tables would otherwise all read as missing.
    """
    schemas = _FirstFound([LiveSchemas([url]) for url, _ in accounts])
    try:
        failures = [
            _cannot_connect(failure, where)
            for source, (_, where) in zip(schemas.sources, accounts, strict=True)
            for failure in source.unreachable()
        ]
        if failures:
            raise ConfigError("\n".join(failures))
        report = check_files(paths, schemas)
    finally:
        schemas.close()
    if not report.ok:
        raise ConfigError("\n".join(str(problem) for problem in report.problems))
    # The bridge starts; a row that hits one of these risks is dead-lettered. One
    # line per file at every start: `check` has the detail.
    by_file: dict[str, list[str]] = {}
    for warning in report.warnings:
        by_file.setdefault(warning.file, []).append(warning.path)
    for file, fields in by_file.items():
        log.warning(
            "%s: %d warning%s (%s): risks check cannot rule out; a row that hits "
            "one goes to the dead-letter table; `creditbridge check %s` explains each",
            file,
            len(fields),
            "s" * (len(fields) != 1),
            ", ".join(fields),
            file,
        )


def _configured_as(key: str, written: str) -> str:
    # Name the environment variable or file behind the URL: that is what to fix.
    return f"{key} ({written})" if "${" in written else key


def _cannot_connect(failure: UnreachableDatabaseError, where: str) -> str:
    return failure.advice("nothing was started", f" of {where}")


class _FirstFound:
    """Table shapes from whichever database account can see the table.

    Least-privilege accounts see only their own tables on MySQL: the capture account
    the native tables, the writer account the staging tables.
    """

    def __init__(self, sources: list[LiveSchemas]) -> None:
        self.sources = sources

    def table(self, qualified: str) -> TableShape | None:
        """The table's shape, None when no account sees it.

        An account that fails to inspect a table another account sees is fine; when
        none sees it, the failure is the answer, not "does not exist".
        """
        failure: ConfigError | None = None
        for source in self.sources:
            try:
                shape = source.table(qualified)
            except ConfigError as exc:
                failure = failure or exc
                continue
            if shape is not None:
                return shape
        if failure is not None:
            raise failure
        return None

    def close(self) -> None:
        for source in self.sources:
            source.close()


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _unsaid(exc: Exception) -> str:
    """*exc*'s lines without "nothing was started": the report's heading says it."""
    lines = [
        line.removesuffix(f"; {_NOT_STARTED}") for line in str(exc).splitlines()
    ]
    return "\n".join(line for line in lines if line != _NOT_STARTED)


def run(config: RunConfig, *, on_ready: Callable[[Bridge], None] | None = None) -> None:
    """Prepare and run the bridge described by *config* until stopped."""
    bridge = prepare(config)
    try:
        bridge.run(on_ready=on_ready)
    except BridgeError:
        raise
    except Exception as exc:  # a JVM or driver error we did not translate
        raise BridgeError(f"the bridge stopped: {type(exc).__name__}: {exc}") from exc


def describe_pipelines(bridge: Bridge) -> list[dict[str, Any]]:
    """One line per pipeline for the CLI's start-up table."""
    return [
        {
            "pipeline": p.config.name,
            "connector": p.connector.name,
            "mappings": ", ".join(m.ref.name for m in p.mappings),
            "target": p.config.target,
        }
        for p in bridge.pipelines
    ]
