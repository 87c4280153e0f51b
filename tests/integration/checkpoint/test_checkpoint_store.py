"""The checkpoint and Kafka offsets in the real bridge tables, as the writer account."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bridge.apply import install_bridge_tables, make_engine
from bridge.apply.schema import TABLE_NAMES, checkpoint, kafka_offset
from bridge.checkpoint import (
    read_checkpoint,
    read_offsets,
    write_checkpoint,
    write_offsets,
)
from bridge.events import SourcePosition

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def dev_env() -> Any:
    from bridge.devenv.api import ensure_up

    return ensure_up()


@pytest.fixture(params=["postgres", "mysql"])
def server(request: pytest.FixtureRequest, dev_env: Any) -> Any:
    return getattr(dev_env, request.param)


@pytest.fixture
def writer(server: Any) -> Iterator[tuple[Engine, str]]:
    engine = make_engine(server.url("writer"))
    pipeline = f"test-checkpoint-{uuid.uuid4().hex[:8]}"
    yield engine, pipeline
    with engine.begin() as connection:
        for table in (checkpoint, kafka_offset):
            connection.execute(table.delete().where(table.c.pipeline == pipeline))
    engine.dispose()


def test_installing_twice_changes_nothing(server: Any) -> None:
    engine = make_engine(server.url("admin"))

    for _ in range(2):
        with engine.begin() as connection:
            install_bridge_tables(connection, engine.dialect.name)

    names = set(sa.inspect(engine).get_table_names(schema="bridge"))
    assert set(TABLE_NAMES) <= names
    assert TABLE_NAMES == (
        "checkpoint",
        "conflict",
        "dead_letter",
        "kafka_offset",
        "pending_event",
    )
    engine.dispose()


def test_checkpoint_round_trip_keeps_order_and_native_fields(
    writer: tuple[Engine, str],
) -> None:
    engine, pipeline = writer
    first = SourcePosition("xyzg", (23803208, 23803208, 1), False, {"lsn": "0/16B3748"})
    later = SourcePosition("xyzg", (23803300, 23803300, 0), False, {"lsn": "0/16B37A4"})

    with engine.begin() as connection:
        assert read_checkpoint(connection, pipeline) is None
        write_checkpoint(connection, pipeline, first)
    with engine.begin() as connection:
        write_checkpoint(connection, pipeline, later)
    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)

    assert stored is not None
    assert (stored.position, stored.order) == (later, (23803300, 23803300, 0))


def test_kafka_offsets_are_kept_per_topic_and_partition(
    writer: tuple[Engine, str],
) -> None:
    engine, pipeline = writer

    with engine.begin() as connection:
        write_offsets(
            connection, pipeline, {("cc.outcomes", 0): 5, ("cc.outcomes", 1): 9}
        )
    with engine.begin() as connection:
        write_offsets(connection, pipeline, {("cc.outcomes", 1): 12})
    with engine.connect() as connection:
        offsets = read_offsets(connection, pipeline)

    assert offsets == {("cc.outcomes", 0): 5, ("cc.outcomes", 1): 12}


def test_a_rolled_back_batch_leaves_the_checkpoint_where_it_was(
    writer: tuple[Engine, str],
) -> None:
    # Pins: the position must never move without the rows it covers.
    engine, pipeline = writer
    first = SourcePosition("gsxt", (3, 4567, 0, 0), False, {"file": "binlog.000003"})
    with engine.begin() as connection:
        write_checkpoint(connection, pipeline, first)

    with pytest.raises(RuntimeError), engine.begin() as connection:
        write_checkpoint(connection, pipeline, SourcePosition("gsxt", (3, 9999, 0, 0)))
        raise RuntimeError("the batch failed after the checkpoint write")

    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)
    assert stored is not None and stored.position == first
