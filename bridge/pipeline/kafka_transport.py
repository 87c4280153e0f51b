"""``transport: kafka`` in ``creditbridge run``: one consumer per pipeline, in threads.

Each Kafka pipeline's :class:`~bridge.capture.kafka.KafkaCapture` joins the group
``<kafka.group_id>-<pipeline>`` and reads the data topics of the pipeline's connector
file. Its batches go through the pipeline's ``Direction.write_in`` inside an
:class:`~bridge.capture.kafka_offsets.ExactlyOnceHandler` transaction, so the rows,
dead letters and next partition offsets commit together in the target.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType

import sqlalchemy as sa

from bridge.apply.engine import make_engine
from bridge.apply.errors import TargetUnavailableError
from bridge.capture.connectors import ConnectorFile
from bridge.capture.kafka import ConsumerState, KafkaCapture, KafkaSettings
from bridge.capture.kafka_offsets import (
    ExactlyOnceHandler,
    TargetOffsets,
    reset_offsets,
)
from bridge.capture.kafka_topics import data_topics
from bridge.errors import BridgeError, CaptureError, ConfigError, database_message
from bridge.pipeline.config import KafkaConfig, PipelineConfig, RunConfig, resolve_url
from bridge.pipeline.direction import Direction

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.1
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_JOIN_SECONDS = 15.0


def kafka_capture(
    config: KafkaConfig,
    connector: ConnectorFile,
    target: sa.Engine,
    direction: Direction,
) -> KafkaCapture:
    """The consumer of one pipeline, writing through *direction* into *target*."""
    pipeline = direction.name
    settings = KafkaSettings(
        bootstrap_servers=resolve_url(
            config.bootstrap_servers, where="kafka.bootstrap_servers"
        ),
        group_id=f"{config.group_id}-{pipeline}",
        topics=tuple(data_topics(connector)),
        max_batch=config.max_batch,
        session_timeout_ms=config.session_timeout_ms,
        client_id=f"creditbridge-{pipeline}",
    )
    handler = ExactlyOnceHandler(
        target, pipeline, direction.write_in, after_commit=direction.committed
    )
    return KafkaCapture(settings, TargetOffsets(target, pipeline), handler)


class KafkaCaptures:
    """Runs the consumers of several pipelines, one thread each.

    The first consumer to fail stops the others and calls *on_end*, so that an
    embedded capture running beside them stops too.
    """

    def __init__(
        self,
        captures: Mapping[str, KafkaCapture],
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self._captures = dict(captures)
        self._on_end = on_end
        self._threads: list[threading.Thread] = []
        self._errors: dict[str, BaseException] = {}
        self._ended = threading.Event()

    @property
    def states(self) -> dict[str, ConsumerState]:
        """Consumer state by connector name."""
        return {name: c.state for name, c in self._captures.items()}

    def start(self) -> None:
        for name, capture in self._captures.items():
            thread = threading.Thread(
                target=self._consume,
                args=(name, capture),
                name=f"kafka-{name}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def _consume(self, name: str, capture: KafkaCapture) -> None:
        try:
            capture.run()
        except BaseException as exc:
            self._errors[name] = exc
        finally:
            self._ended.set()
            if self._on_end is not None:
                self._on_end()

    def request_stop(self) -> None:
        """Ask every consumer to stop after its batch in hand (any thread)."""
        for capture in self._captures.values():
            capture.request_stop()

    def stop(self) -> None:
        """Stop every consumer and wait for its thread.

        A thread still inside a batch after the wait (a target retried while away)
        is left to die with the process: its transaction is not committed, so the
        batch is read again by the next member.
        """
        self.request_stop()
        for thread in self._threads:
            thread.join(_JOIN_SECONDS)
            if thread.is_alive():
                log.warning(
                    "%s still in a batch after %.0f s; leaving it uncommitted",
                    thread.name,
                    _JOIN_SECONDS,
                )

    def run_until_stopped(self) -> None:
        """Block until SIGTERM/SIGINT, :meth:`request_stop` or a consumer ends."""
        with _signals_stop(self):
            # A timed wait, so that the signal handlers get to run meanwhile.
            while not self._ended.wait(_POLL_SECONDS):
                pass

    def raise_if_failed(self) -> None:
        for name, error in self._errors.items():
            if isinstance(error, BridgeError):
                raise error
            raise CaptureError(
                f"Kafka consumer of connector {name} stopped: "
                f"{type(error).__name__}: {error}; its uncommitted batch is read "
                "again from the offsets stored in the target on restart"
            ) from error


@contextmanager
def _signals_stop(captures: KafkaCaptures) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        log.info("received %s, stopping the Kafka consumers", name)
        captures.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def reset_pipeline_offsets(config: RunConfig, pipeline: str) -> tuple[str, int]:
    """Forget the Kafka offsets *pipeline* stored in its target; (target, count).

    The recovery step after the broker lost its topics: re-created topics count
    from 0 again, and stored offsets past their end would skip every new record.
    """
    chosen = _kafka_pipeline(config, pipeline)
    engine = make_engine(resolve_url(config.database(chosen.target).url))
    try:
        with engine.begin() as connection:
            count = reset_offsets(connection, pipeline)
    except sa.exc.SQLAlchemyError as exc:
        message = database_message(exc)
        raise TargetUnavailableError(
            f"cannot reset the Kafka offsets of pipeline {pipeline} in database "
            f"{chosen.target} ({message}); nothing was changed, try again"
        ) from exc
    finally:
        engine.dispose()
    return chosen.target, count


def _kafka_pipeline(config: RunConfig, name: str) -> PipelineConfig:
    known = {p.name: p for p in config.pipelines}
    if name not in known:
        raise ConfigError(
            f"no pipeline {name!r} in the run configuration (pipelines: "
            f"{', '.join(sorted(known)) or 'none'}); nothing was changed"
        )
    pipeline = known[name]
    if pipeline.transport != "kafka":
        raise ConfigError(
            f"pipeline {name} uses transport {pipeline.transport}, which keeps no "
            "Kafka offsets; nothing was changed"
        )
    return pipeline
