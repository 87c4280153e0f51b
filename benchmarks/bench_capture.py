"""Capture-stage throughput: embedded Debezium with a no-op handler and with decoding.

For each shipped connector (PostgreSQL ``credit-china-outcomes``, MySQL
``necips-outcomes``), on a scratch table shaped like the outcome tables: start the
engine, wait for its snapshot of one sentinel row, insert N rows in multi-row
statements (10,000 rows per transaction), and time the streamed events from the
first to the N-th. Per connector: an uncounted warm-up run (N/5 rows), then a no-op
handler (the raw engine) and a handler that decodes every record with
:mod:`bridge.decode`. One process, one JVM.
Prints events/s, the ratio decode / no-op and the process RSS.

    .venv/bin/python benchmarks/bench_capture.py [--rows 30000] [--heap 512m]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bridge.capture.connectors import ConnectorFile, load_connector
from bridge.capture.embedded import CaptureSource, EmbeddedCapture, RawRecord
from bridge.capture.jvm import JvmOptions
from bridge.decode import DecodeSettings, PositionSequencer, RecordDecoder
from bridge.decode.catalog import read_column_types
from bridge.devenv.api import ensure_up

REPO = Path(__file__).resolve().parents[1]
SCRATCH = "cb_capture_bench"
CHUNK = 1000
TRANSACTION = 10_000

COLUMNS = {
    "postgres": """
        xf_bh varchar(40) PRIMARY KEY, xdr_mc text, xdr_shxym char(18),
        cf_wsh_gf text, xf_lx char(2), jdfk_bz boolean, xf_rq date,
        xf_jdsj timestamptz, xf_dw text, fkje numeric(24,6), dfbm char(6)""",
    "mysql": """
        REPAIRNO varchar(40) PRIMARY KEY, ENTNAME varchar(200), UNISCID char(18),
        PENDECNO varchar(100), REPAIRTYPE tinyint, FLAG tinyint(1), REPDATE date,
        REPDECTIME datetime(6), REPDECORG_CN varchar(200), AMOUNT bigint,
        AREACODE char(6)""",
}


class Counter:
    """Counts row events and notes when the first and the N-th arrived."""

    def __init__(self, wanted: int, work: Callable[[RawRecord], None]) -> None:
        self.wanted = wanted
        self.seen = 0
        self.first: float | None = None
        self.last: float | None = None
        self.done = threading.Event()
        self._work = work

    def __call__(self, records: Sequence[RawRecord]) -> None:
        for record in records:
            if record.value is None or not is_row_change(record):
                continue
            self._work(record)
            self.seen += 1
            if self.seen == 1:
                self.first = time.monotonic()
            if self.seen == self.wanted:
                self.last = time.monotonic()
                self.done.set()

    def rate(self) -> float:
        assert self.first is not None and self.last is not None
        return (self.wanted - 1) / (self.last - self.first)


def is_row_change(record: RawRecord) -> bool:
    """Not a heartbeat and not a transaction BEGIN/END marker."""
    topic = record.topic
    return not (topic.startswith("__debezium") or topic.endswith(".transaction"))


def rss_mb() -> tuple[float, float]:
    """Current and peak resident set size of this process, in MB."""
    fields = dict(
        line.split(":", 1)
        for line in Path("/proc/self/status").read_text().splitlines()
    )
    return (
        int(fields["VmRSS"].split()[0]) / 1024,
        int(fields["VmHWM"].split()[0]) / 1024,
    )


def rows(kind: str, start: int, count: int) -> list[tuple[Any, ...]]:
    day = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    made = []
    for i in range(start, start + count):
        when = day + timedelta(minutes=i)
        if kind == "postgres":
            made.append(
                (
                    f"XF{i:012d}",
                    f"某某科技有限公司{i}",
                    f"91310000MA1K{i % 1000000:06d}",
                    f"沪市监罚〔2023〕{i}号",
                    "01",
                    i % 2 == 0,
                    when.date(),
                    when,
                    "上海市信用中心",
                    f"{i % 97}.{i % 1000:06d}",
                    "310000",
                )
            )
        else:
            made.append(
                (
                    f"CR{i:012d}",
                    f"某某科技有限公司{i}",
                    f"91310000MA1K{i % 1000000:06d}",
                    f"沪市监罚〔2023〕{i}号",
                    1 + i % 7,
                    i % 2,
                    when.date(),
                    when.replace(tzinfo=None),
                    "上海市市场监督管理局",
                    i * 100,
                    "310000",
                )
            )
    return made


def insert(engine: sa.Engine, table: str, kind: str, start: int, count: int) -> None:
    width = len(rows(kind, 0, 1)[0])
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        for offset in range(0, count, CHUNK):
            chunk = rows(kind, start + offset, min(CHUNK, count - offset))
            marks = "(" + ", ".join(["%s"] * width) + ")"
            sql = f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(chunk))
            cursor.execute(sql, [value for row in chunk for value in row])
            if (offset + CHUNK) % TRANSACTION == 0:
                raw.commit()
        raw.commit()


def prepare(kind: str, admin: sa.Engine, capture_user: str) -> tuple[str, str | None]:
    table = f"{SCRATCH}.t_{uuid.uuid4().hex[:8]}"
    with admin.begin() as connection:
        if kind == "postgres":
            connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH}")
            connection.exec_driver_sql(
                f"GRANT USAGE ON SCHEMA {SCRATCH} TO {capture_user}"
            )
        else:
            connection.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {SCRATCH}")
            connection.execute(
                sa.text(f"GRANT SELECT ON {SCRATCH}.* TO '{capture_user}'@'%'")
            )
        connection.exec_driver_sql(f"CREATE TABLE {table} ({COLUMNS[kind]})")
        publication = None
        if kind == "postgres":
            publication = f"cb_bench_pub_{uuid.uuid4().hex[:8]}"
            connection.exec_driver_sql(f"GRANT SELECT ON {table} TO {capture_user}")
            connection.exec_driver_sql(
                f"CREATE PUBLICATION {publication} FOR TABLE {table}"
            )
    insert(admin, table, kind, 0, 1)  # the sentinel the snapshot reads
    return table, publication


def connector(
    kind: str, table: str, publication: str | None, variant: str
) -> ConnectorFile:
    shipped = "credit-china-outcomes" if kind == "postgres" else "necips-outcomes"
    base = load_connector(REPO / "connectors" / f"{shipped}.json")
    config = dict(base.config)
    for key in ("heartbeat.action.query", "heartbeat.interval.ms"):
        config.pop(key, None)
    config["table.include.list"] = table
    config["topic.prefix"] = f"bench_{kind}_{variant}"
    if kind == "postgres":
        assert publication is not None
        config["publication.name"] = publication
        config["slot.name"] = f"cb_bench_{uuid.uuid4().hex[:10]}"
    else:
        config["database.include.list"] = SCRATCH
        config["database.server.id"] = str(400_000 + uuid.uuid4().int % 100_000)
    return ConnectorFile(f"bench-{kind}-{variant}", config, base.path)


def decoder_for(file: ConnectorFile, types: Any) -> Callable[[RawRecord], None]:
    decoder = RecordDecoder(
        DecodeSettings.from_connector_config(file.name, file.config), types
    )
    sequencer = PositionSequencer()

    def decode(record: RawRecord) -> None:
        decoder.decode(
            record.key, record.value, sequencer=sequencer, topic=record.topic
        )

    return decode


@dataclass
class Bench:
    """One source under test: its scratch table and where the engines keep state."""

    kind: str
    admin: sa.Engine
    table: str
    publication: str | None
    home: Path
    environ: dict[str, str]
    jvm: JvmOptions


def measure(
    bench: Bench,
    file: ConnectorFile,
    work: Callable[[RawRecord], None],
    start: int,
    count: int,
) -> float:
    """Events/s of *count* rows streamed after the engine read its snapshot."""
    sentinel = Counter(1, lambda _r: None)
    counter = Counter(count, work)
    phase = [sentinel]

    def handler(records: Sequence[RawRecord]) -> None:
        phase[-1](records)

    capture = EmbeddedCapture(
        [CaptureSource(file, handler)],
        home=bench.home,
        environ=bench.environ,
        jvm=bench.jvm,
    )
    capture.start()
    try:
        while not sentinel.done.wait(1):
            capture.raise_if_failed()
        phase.append(counter)
        insert(bench.admin, bench.table, bench.kind, start, count)
        while not counter.done.wait(1):
            capture.raise_if_failed()
    finally:
        capture.stop()
    return counter.rate()


def cleanup(bench: Bench, files: list[ConnectorFile]) -> None:
    with bench.admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        if bench.kind == "mysql":
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCRATCH}")
            return
        for file in files:
            drop_slot(connection, file.config["slot.name"])
        connection.exec_driver_sql(f"DROP PUBLICATION IF EXISTS {bench.publication}")
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")


def drop_slot(connection: sa.Connection, slot: str) -> None:
    for _ in range(50):
        row = connection.exec_driver_sql(
            f"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"
        ).first()
        if row is None:
            return
        if not row.active:
            break
        time.sleep(0.2)
    connection.exec_driver_sql(f"SELECT pg_drop_replication_slot('{slot}')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--heap", default="512m")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    env = ensure_up()
    environ = {
        "CREDITBRIDGE_PG_CAPTURE_URL": env.postgres.url("capture"),
        "CREDITBRIDGE_MYSQL_CAPTURE_URL": env.mysql.url("capture"),
    }
    jvm = JvmOptions(heap=args.heap)
    results: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="cb-bench-capture-") as tmp:
        for kind, server in (("postgres", env.postgres), ("mysql", env.mysql)):
            admin = sa.create_engine(server.url("admin"), poolclass=sa.NullPool)
            table, publication = prepare(kind, admin, server.capture.user)
            with admin.connect() as connection:
                types = read_column_types(connection, [table])
            variants = ("warm", "noop", "decode")
            files = [connector(kind, table, publication, v) for v in variants]
            bench = Bench(kind, admin, table, publication, Path(tmp), environ, jvm)
            warm_rows = max(args.rows // 5, 1000)
            try:
                # JIT warm-up of the JVM and of this source's code paths, not counted.
                measure(bench, files[0], lambda _r: None, 1, warm_rows)
                start = 1 + warm_rows
                noop = measure(bench, files[1], lambda _r: None, start, args.rows)
                decoding = decoder_for(files[2], types)
                start += args.rows
                decode = measure(bench, files[2], decoding, start, args.rows)
            finally:
                cleanup(bench, files)
                admin.dispose()
            results.append((kind, noop, decode))

    current, peak = rss_mb()
    print(f"capture benchmark: {args.rows} streamed rows per run, JVM heap {args.heap}")
    print(f"{'source':<10}{'no-op ev/s':>12}{'decode ev/s':>13}{'decode/no-op':>14}")
    for kind, noop, decode in results:
        print(f"{kind:<10}{noop:>12,.0f}{decode:>13,.0f}{decode / noop:>14.2f}")
    print(f"process RSS {current:.0f} MB now, {peak:.0f} MB peak")
    print(json.dumps({"results": results, "rss_mb": current, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
