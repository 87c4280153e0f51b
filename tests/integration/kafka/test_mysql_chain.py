"""MySQL -> Debezium in Kafka Connect -> Tansu -> consumer, and a broker restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from kafka_support import (
    MYSQL_HISTORY_TOPIC,
    Collector,
    consume,
    mysql_connect_env,
    mysql_connector,
)

from bridge.capture.connect import ConnectClient, wait_until_running
from bridge.capture.kafka import KafkaSettings
from bridge.devenv.broker import Broker, create_topics, start_broker, stop_broker
from bridge.devenv.connect import ConnectWorker, start_connect, stop_connect
from bridge.devenv.model import DevEnv
from bridge.errors import CaptureError

pytestmark = [pytest.mark.kafka, pytest.mark.db, pytest.mark.capture]

TOPIC = "ktmy.kafka_test.outcome"
NAME = "kafka-test-mysql"
TOPICS = {TOPIC: 2, MYSQL_HISTORY_TOPIC: 1}


@pytest.fixture(scope="module")
def worker(
    broker: Broker,
    dev_env: DevEnv,
    mysql_source: sa.Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConnectWorker]:
    create_topics(broker.bootstrap_servers, TOPICS)
    running = start_connect(
        tmp_path_factory.mktemp("connect"),
        broker.bootstrap_servers,
        env=mysql_connect_env(dev_env, broker.bootstrap_servers),
    )
    yield running
    stop_connect(running)


def _insert(engine: sa.Engine, ids: range, note: str) -> None:
    with engine.begin() as c:
        c.execute(
            sa.text("INSERT INTO kafka_test.outcome VALUES (:id, :note)"),
            [{"id": i, "note": f"{note} {i}"} for i in ids],
        )


def _read(broker: Broker, group: str, count: int) -> list[dict[str, object]]:
    collector = Collector(until=count)
    settings = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        group_id=group,
        topics=(TOPIC,),
        session_timeout_ms=6_000,
    )
    consume(settings, collector, collector.done, timeout_s=120)
    return [json.loads(r.value) for r in collector.records if r.value]


def test_mysql_rows_reach_the_consumer(
    worker: ConnectWorker, broker: Broker, dev_env: DevEnv, mysql_source: sa.Engine
) -> None:
    _insert(mysql_source, range(1, 4), "快照")
    client = ConnectClient(worker.url)
    assert client.apply(NAME, mysql_connector(dev_env)["config"]) is True
    wait_until_running(client, [NAME], timeout_s=90)
    # RUNNING comes before the snapshot has read the table: rows written now could
    # be read by the snapshot too (a flake under load). Its 3 reads mark its end.
    snapshot = _read(broker, "kafka-test-mysql-chain-snapshot", 3)
    assert [v["op"] for v in snapshot] == ["r", "r", "r"]

    _insert(mysql_source, range(4, 104), "修复 😀")
    with mysql_source.begin() as c:
        c.execute(
            sa.text("UPDATE kafka_test.outcome SET note = 'changed' WHERE id = 5")
        )

    values = _read(broker, "kafka-test-mysql-chain", 3 + 100 + 1)

    assert [v["op"] for v in values].count("r") == 3
    assert sorted(v["after"]["id"] for v in values if v["op"] in "rc") == list(
        range(1, 104)
    )
    update = next(v for v in values if v["op"] == "u")
    assert update["before"] == {"id": 5, "note": "修复 😀 5"}
    assert update["after"] == {"id": 5, "note": "changed"}


def test_broker_restart_recovers_with_topics_recreated_and_recovery_snapshot(
    worker: ConnectWorker,
    broker: Broker,
    dev_env: DevEnv,
    mysql_source: sa.Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Pins the documented recovery: without it the task fails on the lost history."""
    stop_connect(worker)
    stop_broker(broker)
    new_broker = start_broker(tmp_path_factory.mktemp("tansu"), port=broker.port)
    restarted = None
    try:
        create_topics(new_broker.bootstrap_servers, TOPICS)
        restarted = start_connect(
            worker.home,
            new_broker.bootstrap_servers,
            env=mysql_connect_env(dev_env, new_broker.bootstrap_servers),
        )
        client = ConnectClient(restarted.url)
        client.apply(NAME, mysql_connector(dev_env)["config"])
        with pytest.raises(CaptureError) as caught:
            wait_until_running(client, [NAME], timeout_s=90)
        assert "db history topic is missing" in str(caught.value)

        recovery = mysql_connector(dev_env, **{"snapshot.mode": "recovery"})
        client.apply(NAME, recovery["config"])
        client.restart(NAME)
        wait_until_running(client, [NAME], timeout_s=90)
        _insert(mysql_source, range(200, 210), "after restart")

        values = _read(new_broker, "kafka-test-mysql-restart", 10)
    finally:
        if restarted is not None:
            stop_connect(restarted)
        stop_broker(new_broker)

    # Two partitions: order holds per key, not across keys.
    assert sorted((v["op"], v["after"]["id"]) for v in values) == [
        ("c", i) for i in range(200, 210)
    ]


def test_cli_apply_with_recovery_sets_snapshot_mode_for_mysql_only(
    tmp_path: Path, dev_env: DevEnv
) -> None:
    from bridge.capture.connect import recovery_config
    from bridge.capture.connectors import load_connector

    path = tmp_path / "kafka-test-mysql.json"
    path.write_text(json.dumps(mysql_connector(dev_env)), encoding="utf-8")

    config = recovery_config(load_connector(path))

    assert config["snapshot.mode"] == "recovery"
    assert config["database.password"] == "${env:KAFKA_TEST_MYSQL_PASSWORD}"
