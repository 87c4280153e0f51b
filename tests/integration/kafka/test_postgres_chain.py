"""PostgreSQL -> Debezium in Kafka Connect -> Tansu -> consumer group, end to end."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from kafka_support import (
    Collector,
    consume,
    pg_connect_env,
    pg_connector,
)
from typer.testing import CliRunner

from bridge.capture.connect import ConnectClient, wait_until_running
from bridge.capture.kafka import KafkaSettings
from bridge.cli.main import app
from bridge.devenv.broker import Broker, create_topics
from bridge.devenv.connect import ConnectWorker, start_connect, stop_connect
from bridge.devenv.model import DevEnv
from bridge.errors import CaptureError

pytestmark = [pytest.mark.kafka, pytest.mark.db, pytest.mark.capture]

TOPIC = "kt.kafka_test.outcome"
NAME = "kafka-test-pg"


@pytest.fixture(scope="module")
def worker(
    broker: Broker,
    dev_env: DevEnv,
    pg_source: sa.Engine,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConnectWorker]:
    create_topics(broker.bootstrap_servers, {TOPIC: 3})
    running = start_connect(
        tmp_path_factory.mktemp("connect"),
        broker.bootstrap_servers,
        env=pg_connect_env(dev_env),
    )
    yield running
    stop_connect(running)


@pytest.fixture(scope="module")
def connector_file(dev_env: DevEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("connectors") / "kafka-test-pg.json"
    path.write_text(json.dumps(pg_connector(dev_env), indent=2), encoding="utf-8")
    return path


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.output


def test_rows_reach_the_consumer_once_each_with_per_key_order(
    worker: ConnectWorker, broker: Broker, pg_source: sa.Engine, connector_file: Path
) -> None:
    with pg_source.begin() as c:
        for i in range(3):
            c.execute(
                sa.text("INSERT INTO kafka_test.outcome VALUES (:id, :note)"),
                {"id": i, "note": f"快照 {i}"},
            )

    code, output = _cli(
        "connectors",
        "apply",
        str(connector_file),
        "--connect-url",
        worker.url,
        "--wait",
        "60",
    )
    assert code == 0, output
    assert "created connector kafka-test-pg from" in output
    assert "RUNNING" in output

    with pg_source.begin() as c:
        for i in range(3, 203):
            c.execute(
                sa.text("INSERT INTO kafka_test.outcome VALUES (:id, :note)"),
                {"id": i, "note": f"修复 {i}"},
            )
        c.execute(
            sa.text("UPDATE kafka_test.outcome SET note = 'changed' WHERE id = 7")
        )
        c.execute(sa.text("DELETE FROM kafka_test.outcome WHERE id = 8"))

    collector = Collector(until=3 + 200 + 1 + 2)
    settings = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        group_id="kafka-test-pg-chain",
        topics=(TOPIC,),
        session_timeout_ms=6_000,
    )
    consume(settings, collector, collector.done, timeout_s=120)

    values = [json.loads(r.value) if r.value else None for r in collector.records]
    ops = Counter(v["op"] if v else "tombstone" for v in values)
    assert ops == Counter({"r": 3, "c": 200, "u": 1, "d": 1, "tombstone": 1})
    created = sorted(v["after"]["id"] for v in values if v and v["op"] in "rc")
    assert created == list(range(203))
    assert {r.partition for r in collector.records} == {0, 1, 2}

    key_7 = [
        v
        for r, v in zip(collector.records, values, strict=True)
        if json.loads(r.key or "null") == {"id": 7}
    ]
    assert [v["op"] for v in key_7 if v] == ["c", "u"]
    assert key_7[-1]["after"] == {"id": 7, "note": "changed"}
    assert [
        r.value for r in collector.records if json.loads(r.key or "null") == {"id": 8}
    ][-1] is None


def test_apply_again_updates_and_status_pause_resume_restart(
    worker: ConnectWorker, connector_file: Path
) -> None:
    code, output = _cli(
        "connectors", "apply", str(connector_file), "--connect-url", worker.url
    )
    assert code == 0, output
    assert "updated connector kafka-test-pg from" in output

    code, output = _cli(
        "connectors", "pause", "kafka-test-pg", "--connect-url", worker.url
    )
    assert (code, output.strip()) == (0, "paused connector kafka-test-pg")

    client = ConnectClient(worker.url)
    paused = _wait_for_state(client, "PAUSED")
    assert paused.healthy is True

    code, output = _cli(
        "connectors", "resume", "kafka-test-pg", "--connect-url", worker.url
    )
    assert (code, output.strip()) == (0, "resumed connector kafka-test-pg")
    _wait_for_state(client, "RUNNING")

    code, output = _cli(
        "connectors", "restart", "kafka-test-pg", "--connect-url", worker.url
    )
    assert (code, output.strip()) == (0, "restarted connector kafka-test-pg")
    statuses = wait_until_running(client, ["kafka-test-pg"], timeout_s=60)
    assert statuses["kafka-test-pg"].healthy is True

    code, output = _cli("connectors", "status", "--connect-url", worker.url)
    assert code == 0, output
    assert "kafka-test-pg" in output
    assert "RUNNING" in output


def test_unknown_connector_names_the_url_and_what_happens(
    worker: ConnectWorker,
) -> None:
    with pytest.raises(CaptureError) as caught:
        ConnectClient(worker.url).status("no-such-connector")

    assert str(caught.value) == (
        f"GET {worker.url}/connectors/no-such-connector/status: not found: "
        "No status found for connector no-such-connector; nothing was changed"
    )


def test_rejected_configuration_is_a_config_error(worker: ConnectWorker) -> None:
    from bridge.errors import ConfigError

    bad = {"connector.class": "io.debezium.connector.postgresql.NoSuchConnector"}
    with pytest.raises(ConfigError) as caught:
        ConnectClient(worker.url).apply("kafka-test-bad", bad)

    assert str(caught.value).startswith(
        f"PUT {worker.url}/connectors/kafka-test-bad/config: Kafka Connect rejected "
        "the configuration: "
    )
    assert str(caught.value).endswith("; fix the connector file and apply again")


def _wait_for_state(client: ConnectClient, state: str):  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.status("kafka-test-pg")
        if status.state == state and all(t.state == state for t in status.tasks):
            return status
        time.sleep(0.3)
    raise AssertionError(f"kafka-test-pg never reached {state}: {status}")
