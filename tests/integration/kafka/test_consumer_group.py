"""Exactly-once through consumer crashes and rebalances, on Debezium's real topics.

PostgreSQL rows go through Debezium in Kafka Connect into a 3-partition topic on Tansu;
then bridge consumers in child processes apply them, with offsets stored in the
target, while one is killed mid batch or another joins.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from kafka_support import pg_connect_env, pg_connector

from bridge.devenv.broker import Broker, create_topics
from bridge.devenv.connect import start_connect, stop_connect
from bridge.devenv.model import DevEnv

pytestmark = [pytest.mark.kafka, pytest.mark.db, pytest.mark.capture]

TOPIC = "kt.kafka_test.outcome"
ROWS = 3000
CHILD = Path(__file__).with_name("consumer_child.py")


@pytest.fixture(scope="module")
def filled_topic(
    broker: Broker,
    dev_env: DevEnv,
    pg_source: sa.Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """3000 snapshot records of kafka_test.outcome, spread over 3 partitions."""
    create_topics(broker.bootstrap_servers, {TOPIC: 3})
    with pg_source.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO kafka_test.outcome "
                "SELECT i, 'row ' || i FROM generate_series(1, :rows) AS i"
            ),
            {"rows": ROWS},
        )
        c.execute(
            sa.text(
                "CREATE TABLE kafka_test.applied (consumer text, topic text, "
                "kafka_partition int, kafka_offset bigint, row_id int)"
            )
        )

    worker = start_connect(
        tmp_path_factory.mktemp("connect"),
        broker.bootstrap_servers,
        connectors=[pg_connector(dev_env)],
        env=pg_connect_env(dev_env),
    )
    try:
        _wait(lambda: _records_in(broker, TOPIC) >= ROWS, 180, "snapshot in Kafka")
    finally:
        stop_connect(worker)
    return TOPIC


@pytest.fixture
def pipeline(pg_source: sa.Engine, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"kafka-test-{request.node.name[5:40]}"
    _clean(pg_source, name)
    yield name
    _clean(pg_source, name)


def _clean(engine: sa.Engine, pipeline: str) -> None:
    with engine.begin() as c:
        c.execute(
            sa.text("DELETE FROM bridge.kafka_offset WHERE pipeline = :p"),
            {"p": pipeline},
        )
        c.execute(sa.text("TRUNCATE kafka_test.applied"))


@pytest.mark.usefixtures("filled_topic")
def test_consumer_killed_mid_batch_loses_and_repeats_nothing(
    broker: Broker,
    dev_env: DevEnv,
    pg_source: sa.Engine,
    pipeline: str,
    tmp_path: Path,
) -> None:
    marker = tmp_path / "in-batch"
    first = _child(
        broker,
        dev_env,
        pipeline,
        "first",
        "--pause-at-batch",
        "3",
        "--marker",
        str(marker),
    )
    _wait(marker.exists, 120, "the first consumer to reach its third batch")
    applied_before_kill = _applied(pg_source)["total"]

    first.send_signal(signal.SIGKILL)
    first.wait(30)
    second = _child(broker, dev_env, pipeline, "second")
    try:
        _wait(lambda: _applied(pg_source)["total"] >= ROWS, 180, "all rows applied")
    finally:
        _stop(second)

    counts = _applied(pg_source)
    assert applied_before_kill == 2 * 200
    assert counts == {"total": ROWS, "distinct": ROWS, "min": 1, "max": ROWS}
    assert _stored_offsets(pg_source, pipeline) == _end_offsets(broker, TOPIC)


@pytest.mark.usefixtures("filled_topic")
def test_second_consumer_joining_loses_and_repeats_nothing(
    broker: Broker,
    dev_env: DevEnv,
    pg_source: sa.Engine,
    pipeline: str,
) -> None:
    first = _child(
        broker, dev_env, pipeline, "first", "--batch", "50", "--sleep", "0.2"
    )
    second = None
    try:
        _wait(lambda: _applied(pg_source)["total"] >= 300, 120, "first batches")
        second = _child(
            broker, dev_env, pipeline, "second", "--batch", "50", "--sleep", "0.2"
        )
        _wait(lambda: _applied(pg_source)["total"] >= ROWS, 300, "all rows applied")
    finally:
        _stop(first)
        if second is not None:
            _stop(second)

    counts = _applied(pg_source)
    assert counts == {"total": ROWS, "distinct": ROWS, "min": 1, "max": ROWS}
    assert _stored_offsets(pg_source, pipeline) == _end_offsets(broker, TOPIC)
    print("rows applied per consumer:", _per_consumer(pg_source))


def _child(
    broker: Broker, dev_env: DevEnv, pipeline: str, name: str, *extra: str
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        str(CHILD),
        "--bootstrap",
        broker.bootstrap_servers,
        "--group",
        pipeline,
        "--topic",
        TOPIC,
        "--target-url",
        dev_env.postgres.url("admin"),
        "--pipeline",
        pipeline,
        "--name",
        name,
        *extra,
    ]
    return subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _stop(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(60)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(10)


def _applied(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        row = c.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT row_id), min(row_id), max(row_id) "
                "FROM kafka_test.applied"
            )
        ).one()
    return {"total": row[0], "distinct": row[1], "min": row[2], "max": row[3]}


def _per_consumer(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(
            sa.text("SELECT consumer, count(*) FROM kafka_test.applied GROUP BY 1")
        )
        return {r[0]: r[1] for r in rows}


def _stored_offsets(engine: sa.Engine, pipeline: str) -> dict[tuple[str, int], int]:
    with engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT topic, kafka_partition, next_offset FROM bridge.kafka_offset "
                "WHERE pipeline = :p"
            ),
            {"p": pipeline},
        )
        return {(r[0], r[1]): r[2] for r in rows}


def _end_offsets(broker: Broker, topic: str) -> dict[tuple[str, int], int]:
    """Next offset per partition, found by reading the topic.

    Tansu's ListOffsets answers the base offset of the last record batch rather than
    the high watermark, so ``end_offsets()`` undercounts there.
    """
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers)
    partitions = [TopicPartition(topic, p) for p in range(3)]
    ends = {(topic, p): 0 for p in range(3)}
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        idle = 0
        while idle < 3:
            polled = consumer.poll(timeout_ms=500)
            idle = 0 if polled else idle + 1
            for messages in polled.values():
                for m in messages:
                    ends[(m.topic, m.partition)] = m.offset + 1
    finally:
        consumer.close()
    return ends


def _records_in(broker: Broker, topic: str) -> int:
    return sum(_end_offsets(broker, topic).values())


def _wait(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout_s} s")
        time.sleep(0.5)
