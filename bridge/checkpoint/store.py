"""The last applied source position per pipeline, kept in the target database.

The applier writes it in the same transaction as the rows and dead letters it covers,
so after a crash the stored position says exactly which redelivered events are already
in the target. Kafka partition offsets of the scale-out path are kept the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.apply.schema import checkpoint, kafka_offset
from bridge.events import SourcePosition

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    pipeline: str
    position: SourcePosition
    updated_at: datetime

    @property
    def order(self) -> tuple[int, ...]:
        return self.position.order


def read_checkpoint(
    connection: Connection, pipeline: str, *, lock: bool = False
) -> Checkpoint | None:
    """The stored checkpoint of *pipeline*; with *lock*, held until commit."""
    query = sa.select(checkpoint.c.position, checkpoint.c.updated_at).where(
        checkpoint.c.pipeline == pipeline
    )
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        return None
    return Checkpoint(pipeline, SourcePosition.from_json(row.position), row.updated_at)


def write_checkpoint(
    connection: Connection, pipeline: str, position: SourcePosition
) -> None:
    """Store *position* as the last applied one (inside the caller's transaction)."""
    values = {
        "source": position.source,
        "position": position.to_json(),
        "position_order": json.dumps(list(position.order)),
        "updated_at": _now(connection),
    }
    changed = connection.execute(
        checkpoint.update().where(checkpoint.c.pipeline == pipeline).values(values)
    )
    if changed.rowcount == 0:
        connection.execute(checkpoint.insert().values(pipeline=pipeline, **values))
    log.debug("checkpoint of %s now at %s", pipeline, position)


def read_offsets(connection: Connection, pipeline: str) -> dict[TopicPartition, int]:
    """The next Kafka offset to consume per (topic, partition) of *pipeline*."""
    rows = connection.execute(
        sa.select(
            kafka_offset.c.topic,
            kafka_offset.c.kafka_partition,
            kafka_offset.c.next_offset,
        ).where(kafka_offset.c.pipeline == pipeline)
    )
    return {(row.topic, row.kafka_partition): row.next_offset for row in rows}


def write_offsets(
    connection: Connection, pipeline: str, offsets: Mapping[TopicPartition, int]
) -> None:
    """Store the next offsets to consume (inside the caller's transaction)."""
    now = _now(connection)
    for (topic, partition), next_offset in sorted(offsets.items()):
        where = sa.and_(
            kafka_offset.c.pipeline == pipeline,
            kafka_offset.c.topic == topic,
            kafka_offset.c.kafka_partition == partition,
        )
        changed = connection.execute(
            kafka_offset.update()
            .where(where)
            .values(next_offset=next_offset, updated_at=now)
        )
        if changed.rowcount == 0:
            connection.execute(
                kafka_offset.insert().values(
                    pipeline=pipeline,
                    topic=topic,
                    kafka_partition=partition,
                    next_offset=next_offset,
                    updated_at=now,
                )
            )


def _now(connection: Connection) -> datetime:
    # MySQL DATETIME takes naive values; the session runs in UTC on both dialects.
    from bridge.apply.dialects import dialect_for

    value: datetime = dialect_for(connection.dialect.name).bind_value(datetime.now(UTC))
    return value
