"""The scale-out transport: Debezium runs in Kafka Connect, the bridge reads Kafka.

Several bridge processes join one consumer group per pipeline and share the Debezium
topics' partitions. Kafka's own offset commits are not used: the next offset of every
partition is stored in the target database (``bridge.kafka_offset``) in the same
transaction as the rows it covers, so

* on assignment, each partition is sought to the offset stored in the target;
* a batch is handed to a :class:`KafkaBatchHandler`, which commits rows and offsets
  together (:class:`ExactlyOnceHandler` does this around any row-writing function);
* a crash before the commit loses nothing (the batch is read again), a crash after it
  repeats nothing (the stored offset has moved), and a consumer that lost its
  partitions in a rebalance while still writing is fenced by the row lock on the
  stored offset (see :mod:`bridge.capture.kafka_offsets`).

Records carry the same ``key``, ``value`` and ``topic`` as the embedded path's
:class:`bridge.capture.embedded.RawRecord`, plus the partition and offset, so the same
decode/map/apply code reads both.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from bridge.errors import CaptureError

log = logging.getLogger(__name__)


class KafkaRecord(NamedTuple):
    """One Debezium record read from Kafka; ``value`` is None for a tombstone.

    The first three fields match the embedded path's ``RawRecord``.
    """

    key: str | None
    value: str | None
    topic: str
    partition: int
    offset: int


class ConsumerState(enum.Enum):
    """Where a consumer is; the values match the embedded engine's states."""

    CREATED = "created"
    STARTING = "starting"
    STREAMING = "streaming"
    STOPPED = "stopped"
    FAILED = "failed"


class KafkaBatchHandler(Protocol):
    """Receives one batch; returns only after its rows and offsets are committed."""

    def __call__(self, records: Sequence[KafkaRecord], /) -> None: ...


class OffsetSource(Protocol):
    """Where the next offset to read per partition is stored (the target database)."""

    def next_offsets(
        self, partitions: Sequence[tuple[str, int]]
    ) -> Mapping[tuple[str, int], int]: ...


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    """How one pipeline reads its topics.

    ``session_timeout_ms``: Tansu holds every group join for half of it, so it is kept
    short; ``max_poll_interval_ms`` bounds one handler call before the member is
    considered dead and its partitions move (the offset lock then fences it).
    """

    bootstrap_servers: str
    group_id: str
    topics: tuple[str, ...]
    max_batch: int = 2048
    poll_timeout_ms: int = 500
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    max_poll_interval_ms: int = 300_000
    client_id: str = "creditbridge"
    extra: Mapping[str, Any] = field(default_factory=dict)


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, start each partition where the target database says."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        offsets: OffsetSource,
        on_assigned: Callable[[], None] | None = None,
    ) -> None:
        self._consumer = consumer
        self._offsets = offsets
        self._on_assigned = on_assigned

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        # Nothing to commit: offsets are stored with the rows, and the handler runs
        # between polls, so no batch is in flight while the group rebalances.
        log.info("partitions revoked: %s", _describe(revoked))

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        partitions = sorted(assigned)
        stored = self._offsets.next_offsets(
            [(p.topic, p.partition) for p in partitions]
        )
        fresh = []
        for partition in partitions:
            offset = stored.get((partition.topic, partition.partition))
            if offset is None:
                fresh.append(partition)
            else:
                self._consumer.seek(partition, offset)
        if fresh:
            self._consumer.seek_to_beginning(*fresh)
        log.info(
            "partitions assigned: %s (stored offsets %s)",
            _describe(partitions),
            dict(sorted(stored.items())),
        )
        if self._on_assigned is not None:
            self._on_assigned()


def _describe(partitions: Iterable[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "none"


class KafkaCapture:
    """Reads one pipeline's topics as a consumer-group member until stopped."""

    def __init__(
        self,
        settings: KafkaSettings,
        offsets: OffsetSource,
        handler: KafkaBatchHandler,
    ) -> None:
        self.settings = settings
        self._offsets = offsets
        self._handler = handler
        self._stop = threading.Event()
        self.batches = 0
        self.records = 0
        self.state = ConsumerState.CREATED

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the batch in hand (safe from any thread)."""
        self._stop.set()

    def run(self) -> None:
        """Join the group and deliver batches until :meth:`request_stop`."""
        self.state = ConsumerState.STARTING
        try:
            self._consume()
        except BaseException:
            self.state = ConsumerState.FAILED
            raise
        self.state = ConsumerState.STOPPED

    def _consume(self) -> None:
        consumer = self._connect()
        try:
            consumer.subscribe(
                topics=list(self.settings.topics),
                listener=_SeekToStoredOffsets(consumer, self._offsets, self._joined),
            )
            while not self._stop.is_set():
                self._deliver(self._poll(consumer))
        finally:
            # close() leaves the group at once, so partitions move without waiting
            # for the session to expire.
            consumer.close(autocommit=False)
            log.info(
                "consumer %s left group %s after %s batches, %s records",
                self.settings.client_id,
                self.settings.group_id,
                self.batches,
                self.records,
            )

    def _joined(self) -> None:
        if self.state is ConsumerState.STARTING:
            self.state = ConsumerState.STREAMING

    def _connect(self) -> KafkaConsumer:
        s = self.settings
        try:
            return KafkaConsumer(
                bootstrap_servers=s.bootstrap_servers,
                group_id=s.group_id,
                client_id=s.client_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # Tansu would create a missing topic with 4 partitions; Debezium
                # topics are created up front with their intended counts instead.
                allow_auto_create_topics=False,
                max_poll_records=s.max_batch,
                session_timeout_ms=s.session_timeout_ms,
                heartbeat_interval_ms=s.heartbeat_interval_ms,
                max_poll_interval_ms=s.max_poll_interval_ms,
                **dict(s.extra),
            )
        except KafkaError as exc:
            raise CaptureError(
                f"cannot reach Kafka at {s.bootstrap_servers} for group "
                f"{s.group_id}: {exc}; nothing was consumed"
            ) from exc

    def _poll(self, consumer: KafkaConsumer) -> list[KafkaRecord]:
        polled = consumer.poll(
            timeout_ms=self.settings.poll_timeout_ms,
            max_records=self.settings.max_batch,
        )
        return [
            KafkaRecord(
                _text(message.key),
                _text(message.value),
                message.topic,
                message.partition,
                message.offset,
            )
            for partition in sorted(polled)
            for message in polled[partition]
        ]

    def _deliver(self, batch: list[KafkaRecord]) -> None:
        if not batch:
            return
        self._handler(batch)
        self.batches += 1
        self.records += len(batch)
        log.debug("delivered batch of %s records", len(batch))


def _text(payload: bytes | None) -> str | None:
    return None if payload is None else payload.decode("utf-8")
