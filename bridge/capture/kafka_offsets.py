"""Kafka offsets kept in the target database, committed with the rows they cover.

The table is the checkpoint stage's ``bridge.kafka_offset`` (one row per pipeline,
topic and partition, holding the next offset to read). This module adds what the
consumer-group transport needs on top of :mod:`bridge.checkpoint.store`:

* missing rows are created at assignment, so every later batch finds a row to lock;
* a batch's transaction locks its partitions' rows first (``SELECT ... FOR UPDATE``)
  and drops records below the stored offset. A member that lost its partitions in a
  rebalance but is still writing waits on that lock and then finds its records
  already applied, so nothing is applied twice, whatever the timing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bridge.apply.applier import translate_errors
from bridge.apply.dialects import dialect_for
from bridge.apply.faults import fault_point
from bridge.apply.retry import RetrySettings, run_with_retries
from bridge.apply.schema import kafka_offset
from bridge.capture.kafka import KafkaRecord
from bridge.checkpoint.store import read_offsets, write_offsets

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
RowWriter = Callable[[Connection, Sequence[KafkaRecord]], object]
"""Writes the rows of some records inside the caller's transaction; never commits.

What it returns is ignored."""


class TargetOffsets:
    """The stored next offsets of one pipeline, read when partitions are assigned."""

    def __init__(self, engine: Engine, pipeline: str) -> None:
        self._engine = engine
        self._pipeline = pipeline

    def next_offsets(
        self, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Stored offsets of *partitions*; a partition never seen starts at 0."""
        with self._engine.connect() as connection:
            stored = read_offsets(connection, self._pipeline)
        missing = [p for p in partitions if p not in stored]
        for partition in missing:
            self._create(partition)
        return {p: stored.get(p, 0) for p in partitions}

    def _create(self, partition: TopicPartition) -> None:
        try:
            with self._engine.begin() as connection:
                write_offsets(connection, self._pipeline, {partition: 0})
        except sa.exc.IntegrityError:
            # Another member created it first; its value is the one that counts.
            log.debug("offset row for %s[%s] exists already", *partition)


def reset_offsets(connection: Connection, pipeline: str) -> int:
    """Forget *pipeline*'s stored offsets; return how many partitions were stored.

    Needed after the broker lost its topics (Tansu restart): the re-created topics
    count offsets from 0 again, and stored offsets past their end would skip the new
    records.
    """
    deleted = connection.execute(
        kafka_offset.delete().where(kafka_offset.c.pipeline == pipeline)
    )
    log.warning("pipeline %s: stored Kafka offsets reset", pipeline)
    return deleted.rowcount


def lock_offsets(
    connection: Connection, pipeline: str, partitions: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    """Stored next offsets of *partitions*, locked until the transaction ends."""
    wanted = sa.tuple_(kafka_offset.c.topic, kafka_offset.c.kafka_partition).in_(
        sorted(partitions)
    )
    rows = connection.execute(
        sa.select(
            kafka_offset.c.topic,
            kafka_offset.c.kafka_partition,
            kafka_offset.c.next_offset,
        )
        .where(kafka_offset.c.pipeline == pipeline, wanted)
        .order_by(kafka_offset.c.topic, kafka_offset.c.kafka_partition)
        .with_for_update()
    )
    return {(row.topic, row.kafka_partition): row.next_offset for row in rows}


def unapplied(
    records: Sequence[KafkaRecord], stored: dict[TopicPartition, int]
) -> list[KafkaRecord]:
    """The records at or past their partition's stored offset, in batch order."""
    return [r for r in records if r.offset >= stored.get((r.topic, r.partition), 0)]


def offsets_after(records: Sequence[KafkaRecord]) -> dict[TopicPartition, int]:
    """The next offset to read per partition once *records* are applied."""
    after: dict[TopicPartition, int] = {}
    for record in records:
        key = (record.topic, record.partition)
        after[key] = max(after.get(key, 0), record.offset + 1)
    return after


class ExactlyOnceHandler:
    """Commits a batch's rows and its partitions' next offsets in one transaction.

    *write_rows* is the shared decode/map/apply step; it receives only the records
    not applied before and must not commit. A :class:`RetryableError` (the target
    away, a deadlock) rolls the whole transaction back and runs it again after a
    backoff, offsets locked and read anew, so a retry never trusts what the failed
    attempt saw. *after_commit* runs once a batch that wrote rows is committed
    (metrics, lag).
    """

    def __init__(
        self,
        engine: Engine,
        pipeline: str,
        write_rows: RowWriter,
        *,
        retry: RetrySettings | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._pipeline = pipeline
        self._write_rows = write_rows
        self._retry = retry or RetrySettings()
        self._after_commit = after_commit
        self._dialect = dialect_for(engine.dialect.name)

    def __call__(self, records: Sequence[KafkaRecord], /) -> None:
        fresh = run_with_retries(
            lambda: self._apply_once(records),
            self._retry,
            f"batch of {len(records)} Kafka records for pipeline {self._pipeline}",
        )
        fault_point("after_commit")
        if fresh and self._after_commit is not None:
            self._after_commit()
        skipped = len(records) - fresh
        if skipped:
            log.warning(
                "pipeline %s: skipped %s records already applied (redelivery after "
                "a rebalance or restart)",
                self._pipeline,
                skipped,
            )
        log.info("pipeline %s: applied %s records", self._pipeline, fresh)

    def _apply_once(self, records: Sequence[KafkaRecord]) -> int:
        """One attempt: lock, filter, write, store offsets, commit; the fresh count."""
        partitions = sorted({(r.topic, r.partition) for r in records})
        where = f"pipeline {self._pipeline}"
        with (
            translate_errors(self._dialect, where),
            self._engine.begin() as connection,
        ):
            stored = lock_offsets(connection, self._pipeline, partitions)
            fresh = unapplied(records, stored)
            if fresh:
                self._write_rows(connection, fresh)
                write_offsets(connection, self._pipeline, offsets_after(fresh))
        return len(fresh)
