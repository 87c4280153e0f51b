"""Helpers for the capture tests: connector files for scratch tables, a collecting
handler, and the environment the connector files' references read."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bridge.capture.connectors import ConnectorFile, load_connector
from bridge.capture.embedded import CaptureSource, EmbeddedCapture, RawRecord

SCRATCH = "cb_capture_test"
REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "connectors"
WAIT_SECONDS = 90.0


def reference_environment(dev_env: Any) -> dict[str, str]:
    """The ``CREDITBRIDGE_*`` variables the shipped connector files refer to."""
    pg, my = dev_env.postgres, dev_env.mysql
    return {
        "CREDITBRIDGE_PG_HOST": pg.host,
        "CREDITBRIDGE_PG_PORT": str(pg.port),
        "CREDITBRIDGE_PG_DATABASE": pg.database,
        "CREDITBRIDGE_PG_CAPTURE_PASSWORD": pg.capture.password,
        "CREDITBRIDGE_MYSQL_HOST": my.host,
        "CREDITBRIDGE_MYSQL_PORT": str(my.port),
        "CREDITBRIDGE_MYSQL_CAPTURE_PASSWORD": my.capture.password,
    }


def write_connector(
    directory: Path, shipped: str, name: str, changes: Mapping[str, str | None]
) -> ConnectorFile:
    """A copy of the shipped connector file *shipped*, renamed and changed, loaded.

    A ``None`` in *changes* removes that setting.
    """
    raw = json.loads((SHIPPED / f"{shipped}.json").read_text(encoding="utf-8"))
    config = dict(raw["config"])
    # Transaction boundary records are the pipeline's concern (bridge.apply.pending);
    # these tests look at change records alone unless *changes* turn them back on.
    config.pop("provide.transaction.metadata", None)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path = directory / f"{name}.json"
    path.write_text(json.dumps({"name": name, "config": config}, indent=2))
    return load_connector(path)


class Collector:
    """A batch handler that keeps every record, for tests to wait on."""

    def __init__(self, skip_heartbeats: bool = True) -> None:
        self._records: list[RawRecord] = []
        self._batches = 0
        self._lock = threading.Lock()
        self._skip_heartbeats = skip_heartbeats

    def __call__(self, records: Sequence[RawRecord]) -> None:
        with self._lock:
            self._batches += 1
            self._records.extend(
                r for r in records if not (self._skip_heartbeats and is_heartbeat(r))
            )

    @property
    def records(self) -> list[RawRecord]:
        with self._lock:
            return list(self._records)

    def wait_for(
        self, count: int, what: str = "records", check: Callable[[], None] | None = None
    ) -> list[RawRecord]:
        """Wait until *count* records arrived; fail the test after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if check is not None:
                check()
            records = self.records
            if len(records) >= count:
                return records
            time.sleep(0.1)
        raise AssertionError(
            f"waited {WAIT_SECONDS:.0f} s for {count} {what}, got {len(self.records)}"
        )


def is_heartbeat(record: RawRecord) -> bool:
    """Debezium's heartbeat, or a transaction BEGIN/END marker: not a row change."""
    return record.topic.startswith("__debezium-heartbeat") or record.topic.endswith(
        ".transaction"
    )


def change(record: RawRecord) -> tuple[str | None, Any, Any, Any]:
    """``(op, key, before, after)`` of a record; op is None for a tombstone."""
    key = json.loads(record.key) if record.key is not None else None
    if record.value is None:
        return (None, key, None, None)
    value = json.loads(record.value)
    return (value["op"], key, value["before"], value["after"])


@dataclass
class PgSource:
    """A scratch table with its own publication and slot, and its connector file."""

    table: str
    publication: str
    slot: str
    connector: ConnectorFile
    admin: sa.Engine

    @property
    def qualified(self) -> str:
        return f"{SCRATCH}.{self.table}"

    def execute(self, *statements: str) -> None:
        """Run *statements* in one transaction."""
        with self.admin.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)


@dataclass
class MysqlSource:
    table: str
    connector: ConnectorFile
    admin: sa.Engine

    @property
    def qualified(self) -> str:
        return f"{SCRATCH}.{self.table}"

    def execute(self, *statements: str) -> None:
        with self.admin.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)


SMALL_QUEUE = {"max.queue.size": "64", "max.batch.size": "16"}
"""Connector settings for :func:`assert_streaming_figures`."""


def assert_streaming_figures(
    source: PgSource | MysqlSource, home: Path, environ: dict[str, str]
) -> None:
    """Debezium's own streaming figures, read while *source* streams (made with
    :data:`SMALL_QUEUE`), and none once the engine stopped."""
    source.execute(f"INSERT INTO {source.qualified} VALUES (1, 'a', 1)")
    collector = Collector()
    capture = EmbeddedCapture(
        [CaptureSource(source.connector, collector)], home=home, environ=environ
    )
    capture.start()
    try:
        collector.wait_for(1, "snapshot record", capture.raise_if_failed)
        source.execute(f"INSERT INTO {source.qualified} VALUES (2, 'b', 2)")
        collector.wait_for(2, "the streamed insert", capture.raise_if_failed)
        readings = capture.streaming_readings()
    finally:
        capture.stop()

    assert list(readings) == [source.connector.name]
    reading = readings[source.connector.name]
    # Both records were handed over: the queue is empty again.
    assert (reading.queue_remaining, reading.queue_capacity) == (64, 64)
    assert reading.millis_behind_source is not None
    assert 0 <= reading.millis_behind_source < WAIT_SECONDS * 1000
    assert capture.streaming_readings() == {}
