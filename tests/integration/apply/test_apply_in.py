"""``Applier.apply_in`` inside a caller's transaction, and the Kafka batch around it.

The Kafka path applies records of interleaved partitions, so positions go backwards
within a batch and between batches; exactly-once comes from the partition offsets
locked in the same transaction (``ExactlyOnceHandler``), not from the checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from apply_events import rejection, upsert
from sqlalchemy.engine import Connection, Engine

from bridge.apply import Applier, ConflictPolicy, RetrySettings
from bridge.apply.errors import TargetUnavailableError
from bridge.apply.schema import dead_letter
from bridge.capture.kafka import KafkaRecord
from bridge.capture.kafka_offsets import ExactlyOnceHandler
from bridge.checkpoint import read_checkpoint, read_offsets
from bridge.map.results import MapResult

pytestmark = pytest.mark.db


def rows(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        query = sa.text(f"SELECT * FROM {table} ORDER BY 1")
        return [tuple(row) for row in connection.execute(query)]


def letter_reasons(engine: Engine, pipeline: str) -> list[str]:
    with engine.connect() as connection:
        query = sa.select(dead_letter.c.message).where(
            dead_letter.c.pipeline == pipeline
        )
        return list(connection.execute(query.order_by(dead_letter.c.id)).scalars())


@pytest.fixture
def item(make_table: Any) -> str:
    name: str = make_table("item", "id int primary key, v varchar(10)")
    return name


def test_without_positions_applies_what_the_checkpoint_would_skip(
    engine: Engine, pipeline: str, item: str
) -> None:
    # Pins: on Kafka a later partition's older position must not be skipped.
    applier = Applier(engine, default_policy=ConflictPolicy.source_wins())
    applier.apply_batch(pipeline, [upsert(item, (9, 9, 0), {"id": 1, "v": "a"})])
    interleaved: list[MapResult] = [
        upsert(item, (5, 1, 0), {"id": 2, "v": "b"}),
        rejection((3, 1, 0), 3, "USCC 91350100M000100Y4Z: Z is not allowed"),
        upsert(item, (7, 1, 0), {"id": 4, "v": "d"}),
    ]

    with engine.begin() as connection:
        report = applier.apply_in(connection, pipeline, interleaved, positions=False)

    assert rows(engine, item) == [(1, "a"), (2, "b"), (4, "d")]
    assert (report.applied, report.dead_lettered, report.skipped) == (2, 1, 0)
    assert report.position is not None and report.position.order == (7, 1, 0)
    assert letter_reasons(engine, pipeline) == [
        "USCC 91350100M000100Y4Z: Z is not allowed"
    ]
    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)
    assert stored is not None and stored.order == (9, 9, 0)


def test_rows_and_dead_letters_roll_back_with_the_callers_transaction(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=ConflictPolicy.source_wins())
    batch: list[MapResult] = [
        upsert(item, (1, 1, 0), {"id": 1, "v": "a"}),
        rejection((1, 2, 0), 2, "no mapping reads t"),
    ]

    with pytest.raises(RuntimeError), engine.begin() as connection:
        applier.apply_in(connection, pipeline, batch, positions=False)
        raise RuntimeError("the caller gives up before its commit")

    assert rows(engine, item) == []
    assert letter_reasons(engine, pipeline) == []


def _records(topic: str, offsets: Sequence[tuple[int, int]]) -> list[KafkaRecord]:
    return [
        KafkaRecord(None, f'{{"id": {offset}}}', topic, partition, offset)
        for partition, offset in offsets
    ]


def test_a_retried_batch_applies_once_and_advances_the_offsets(
    engine: Engine, pipeline: str, item: str
) -> None:
    # Pins: the whole transaction is retried; the failed attempt leaves nothing.
    applier = Applier(engine, default_policy=ConflictPolicy.source_wins())
    attempts: list[int] = []
    committed: list[int] = []

    def write_rows(connection: Connection, records: Sequence[KafkaRecord]) -> None:
        attempts.append(len(records))
        results = [
            upsert(
                item, (r.offset, 0, 0), {"id": 10 * r.partition + r.offset, "v": "x"}
            )
            for r in records
        ]
        applier.apply_in(connection, pipeline, results, positions=False)
        if len(attempts) == 1:
            raise TargetUnavailableError("target database unavailable (test)")

    handler = ExactlyOnceHandler(
        engine,
        pipeline,
        write_rows,
        retry=RetrySettings(initial=0.01, attempts=3),
        after_commit=lambda: committed.append(1),
    )
    records = _records("kt.t", [(0, 0), (1, 0), (0, 1)])

    handler(records)
    handler(records)  # delivered again after a rebalance: nothing to apply

    assert attempts == [3, 3]
    assert committed == [1]
    assert rows(engine, item) == [(0, "x"), (1, "x"), (10, "x")]
    with engine.connect() as connection:
        assert read_offsets(connection, pipeline) == {("kt.t", 0): 2, ("kt.t", 1): 1}
