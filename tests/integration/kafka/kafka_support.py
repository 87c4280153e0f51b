"""Helpers shared by the scale-out tests (imported by name: tests have no packages)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from bridge.capture.kafka import KafkaCapture, KafkaRecord, KafkaSettings
from bridge.devenv.model import DevEnv

PG_SLOT = "kafka_test_slot"
PG_PUBLICATION = "kafka_test_pub"


def pg_connector(dev_env: DevEnv, name: str = "kafka-test-pg") -> dict[str, Any]:
    """A PostgreSQL connector file's content; the password stays a reference."""
    server = dev_env.postgres
    return {
        "name": name,
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "topic.prefix": "kt",
            "database.hostname": server.host,
            "database.port": str(server.port),
            "database.user": server.capture.user,
            "database.password": "${env:KAFKA_TEST_PG_PASSWORD}",
            "database.dbname": server.database,
            "plugin.name": "pgoutput",
            "publication.name": PG_PUBLICATION,
            "publication.autocreate.mode": "disabled",
            "slot.name": PG_SLOT,
            "table.include.list": "kafka_test.outcome",
            "decimal.handling.mode": "string",
            "time.precision.mode": "adaptive_time_microseconds",
            "poll.interval.ms": "100",
        },
    }


def pg_connect_env(dev_env: DevEnv) -> dict[str, str]:
    return {"KAFKA_TEST_PG_PASSWORD": dev_env.postgres.capture.password}


class Collector:
    """A handler that keeps every record and stops the capture at a count."""

    def __init__(self, until: int) -> None:
        self.records: list[KafkaRecord] = []
        self.until = until
        self.done = threading.Event()

    def __call__(self, records: Sequence[KafkaRecord], /) -> None:
        self.records.extend(records)
        if len(self.records) >= self.until:
            self.done.set()


def consume(
    settings: KafkaSettings,
    handler: Callable[[Sequence[KafkaRecord]], None],
    done: threading.Event,
    timeout_s: float,
) -> KafkaCapture:
    """Run a capture in a thread until *done* is set (or the timeout), then stop it."""

    class _NoStoredOffsets:
        def next_offsets(
            self, partitions: Sequence[tuple[str, int]]
        ) -> dict[tuple[str, int], int]:
            return {}

    capture = KafkaCapture(settings, _NoStoredOffsets(), handler)
    thread = threading.Thread(target=capture.run, name="kafka-test-capture")
    thread.start()
    done.wait(timeout_s)
    capture.request_stop()
    thread.join(60)
    return capture


MYSQL_HISTORY_TOPIC = "kafka-test-mysql.schema-history"


def mysql_connector(
    dev_env: DevEnv, name: str = "kafka-test-mysql", **overrides: str
) -> dict[str, Any]:
    """A MySQL connector file's content, schema history in a Kafka topic."""
    server = dev_env.mysql
    config = {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "tasks.max": "1",
        "topic.prefix": "ktmy",
        "database.hostname": server.host,
        "database.port": str(server.port),
        "database.user": server.capture.user,
        "database.password": "${env:KAFKA_TEST_MYSQL_PASSWORD}",
        "database.server.id": "184199",
        "database.ssl.mode": "disabled",
        "driver.allowPublicKeyRetrieval": "true",
        "database.include.list": "kafka_test",
        "table.include.list": "kafka_test.outcome",
        "include.schema.changes": "false",
        "schema.history.internal.kafka.bootstrap.servers": (
            "${env:KAFKA_TEST_BOOTSTRAP}"
        ),
        "schema.history.internal.kafka.topic": MYSQL_HISTORY_TOPIC,
        "schema.history.internal.store.only.captured.databases.ddl": "true",
        "decimal.handling.mode": "string",
        "time.precision.mode": "adaptive_time_microseconds",
        "poll.interval.ms": "100",
    }
    return {"name": name, "config": {**config, **overrides}}


def mysql_connect_env(dev_env: DevEnv, bootstrap_servers: str) -> dict[str, str]:
    return {
        "KAFKA_TEST_MYSQL_PASSWORD": dev_env.mysql.capture.password,
        "KAFKA_TEST_BOOTSTRAP": bootstrap_servers,
    }
