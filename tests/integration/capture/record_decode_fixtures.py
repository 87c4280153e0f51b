"""Record real Debezium output for the decode tests (CASES.md C01-C04, C07, C09-C11).

    .venv/bin/python tests/integration/capture/record_decode_fixtures.py [CASE ...]

For each case: create its table in the scratch namespace ``cb_capture_test``, insert
the snapshot rows, start one embedded engine per variant (schemas on / off, decimal
mode), make the streaming changes, and write ``tests/fixtures/decode/captured/
<case>-<source>-<variant>.json`` with the records exactly as the JSON converter wrote
them, plus ``.expected.json`` (format: ``tests/fixtures/decode/README.md``).

The expected rows are written here from what the statements put in the database,
never from a decoder. The position fields (order, snapshot, transaction id, commit
time) are computed from each record's ``source`` block by the rules documented in
``bridge/decode/position.py`` and ``bridge/decode/envelope.py``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from capture_support import (
    SCRATCH,
    Collector,
    is_heartbeat,
    reference_environment,
    write_connector,
)

from bridge.capture.embedded import CaptureSource, EmbeddedCapture, RawRecord
from bridge.decode.catalog import read_column_types
from bridge.devenv.api import ensure_up

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "tests" / "fixtures" / "decode" / "captured"
UNAVAILABLE = {"$unavailable": True}
PLAIN = {
    "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false",
}
SCHEMAS = {
    "key.converter.schemas.enable": "true",
    "value.converter.schemas.enable": "true",
}
STRING = {"decimal.handling.mode": "string"}
PRECISE = {"decimal.handling.mode": "precise"}

log = logging.getLogger("record_decode_fixtures")

Row = dict[str, Any]
Change = tuple[str | None, Row, Row | None, Row | None]  # op, key, before, after


@dataclass
class Case:
    name: str
    source: str  # "mysql" or "postgres"
    table: str
    ddl: str
    snapshot: list[str]
    streaming: list[str]
    expected: list[Change]
    variants: dict[str, dict[str, str]]
    session: list[str] = field(default_factory=list)
    replica_identity: str | None = None

    @property
    def qualified(self) -> str:
        return f"{SCRATCH}.{self.table}"

    def snapshot_changes(self) -> list[Change]:
        return [change for change in self.expected if change[0] == "r"]


def d(text: str) -> dict[str, str]:
    return {"$date": text}


def dt(text: str) -> dict[str, str]:
    return {"$datetime": text}


def dec(text: str) -> dict[str, str]:
    return {"$decimal": text}


def inst(text: str) -> dict[str, str]:
    return {"$instant": text}


def insert(row: Row) -> Change:
    return ("c", {"id": row["id"]}, None, row)


def read(row: Row) -> Change:
    return ("r", {"id": row["id"]}, None, row)


BOTH = {"plain": {**PLAIN, **STRING}, "schemas": {**SCHEMAS, **STRING}}

LEDGER = [
    {"id": 1, "amount": dec("7.90"), "delta": dec("-1.50")},
    {"id": 2, "amount": dec("1.28"), "delta": dec("-0.01")},
    {"id": 3, "amount": dec("0.00"), "delta": None},
]
EVT = [
    {
        "id": 1,
        "d": d("2019-03-16"),
        "t3": dt("2018-05-29T17:36:19.700000"),
        "t6": dt("2024-06-15T12:34:56.123456"),
    },
    {"id": 2, "d": d("1500-03-10"), "t3": None, "t6": None},
    {
        "id": 3,
        "d": d("1969-12-31"),
        "t3": dt("1969-12-31T23:59:59.999000"),
        "t6": dt("1969-12-31T23:59:59.999999"),
    },
]
FLAGS = [
    {"id": i, "active": v, "level": v} for i, v in ((1, 0), (2, 1), (3, 2), (4, -1))
]
CUSTOMER = {"id": 7, "email": "kim@example.test", "region": "EU"}

CASES = [
    Case(
        "C01",
        "mysql",
        "c01_ledger",
        "id int PRIMARY KEY, amount decimal(10,2) NOT NULL, delta decimal(10,2) NULL",
        ["INSERT INTO {t} VALUES (1, 7.90, -1.50)"],
        [
            "INSERT INTO {t} VALUES (2, 1.28, -0.01)",
            "INSERT INTO {t} VALUES (3, 0.00, NULL)",
        ],
        [read(LEDGER[0]), insert(LEDGER[1]), insert(LEDGER[2])],
        {
            "precise-schemas": {**SCHEMAS, **PRECISE},
            "string-schemas": {**SCHEMAS, **STRING},
            "string-plain": {**PLAIN, **STRING},
        },
    ),
    Case(
        "C01",
        "postgres",
        "c01_ratio",
        "id int PRIMARY KEY, ratio numeric(4,4)",
        ["INSERT INTO {t} VALUES (1, 0.2346)"],
        ["INSERT INTO {t} VALUES (2, -0.0001)"],
        [
            read({"id": 1, "ratio": dec("0.2346")}),
            insert({"id": 2, "ratio": dec("-0.0001")}),
        ],
        {
            "precise-schemas": {**SCHEMAS, **PRECISE},
            "string-plain": {**PLAIN, **STRING},
        },
    ),
    Case(
        "C02",
        "mysql",
        "c02_evt",
        "id int PRIMARY KEY, d date, t3 datetime(3), t6 datetime(6)",
        [
            "INSERT INTO {t} VALUES (1, '2019-03-16', '2018-05-29 17:36:19.700', "
            "'2024-06-15 12:34:56.123456')"
        ],
        [
            "INSERT INTO {t} VALUES (2, '1500-03-10', NULL, NULL)",
            "INSERT INTO {t} VALUES (3, '1969-12-31', '1969-12-31 23:59:59.999', "
            "'1969-12-31 23:59:59.999999')",
        ],
        [read(EVT[0]), insert(EVT[1]), insert(EVT[2])],
        BOTH,
    ),
    Case(
        "C02",
        "postgres",
        "c02_day",
        "id int PRIMARY KEY, day date",
        ["INSERT INTO {t} VALUES (1, '2024-02-29')"],
        ["INSERT INTO {t} VALUES (2, '1500-03-10')"],
        [
            read({"id": 1, "day": d("2024-02-29")}),
            insert({"id": 2, "day": d("1500-03-10")}),
        ],
        BOTH,
    ),
    Case(
        "C03",
        "mysql",
        "c03_login",
        "id int PRIMARY KEY, created datetime, seen timestamp NULL",
        ["INSERT INTO {t} VALUES (1, '2019-03-16 11:28:27', '2019-03-16 11:28:27')"],
        ["INSERT INTO {t} VALUES (2, '2019-03-16 11:28:27', '2019-03-16 11:28:27')"],
        [
            read(
                {
                    "id": 1,
                    "created": dt("2019-03-16T11:28:27"),
                    "seen": inst("2019-03-16T03:28:27+00:00"),
                }
            ),
            insert(
                {
                    "id": 2,
                    "created": dt("2019-03-16T11:28:27"),
                    "seen": inst("2019-03-16T03:28:27+00:00"),
                }
            ),
        ],
        BOTH,
        session=["SET time_zone = '+08:00'"],
    ),
    Case(
        "C04",
        "postgres",
        "c04_payment",
        "id int PRIMARY KEY, paid_at timestamptz(6) NOT NULL",
        ["INSERT INTO {t} VALUES (1, '2024-02-23 16:52:14.431487')"],
        ["INSERT INTO {t} VALUES (2, '2024-02-23 16:52:14.431487')"],
        [
            read({"id": 1, "paid_at": inst("2024-02-23T08:52:14.431487+00:00")}),
            insert({"id": 2, "paid_at": inst("2024-02-23T08:52:14.431487+00:00")}),
        ],
        BOTH,
        session=["SET TIME ZONE 'Asia/Shanghai'"],
    ),
    Case(
        "C07",
        "mysql",
        "c07_flag",
        "id int PRIMARY KEY, active tinyint(1), level tinyint(1)",
        ["INSERT INTO {t} VALUES (1, 0, 0), (2, 1, 1)"],
        ["INSERT INTO {t} VALUES (3, 2, 2)", "INSERT INTO {t} VALUES (4, -1, -1)"],
        [read(FLAGS[0]), read(FLAGS[1]), insert(FLAGS[2]), insert(FLAGS[3])],
        BOTH,
    ),
    Case(
        "C09",
        "postgres",
        "c09_customer",
        "id int PRIMARY KEY, email text, region text",
        ["INSERT INTO {t} VALUES (7, 'kim@example.test', 'EU')"],
        ["UPDATE {t} SET region = 'US' WHERE id = 7", "DELETE FROM {t} WHERE id = 7"],
        [
            read(CUSTOMER),
            ("u", {"id": 7}, None, {**CUSTOMER, "region": "US"}),
            (
                "d",
                {"id": 7},
                {"id": 7, "email": UNAVAILABLE, "region": UNAVAILABLE},
                None,
            ),
            (None, {"id": 7}, None, None),
        ],
        BOTH,
        replica_identity="DEFAULT",
    ),
    Case(
        "C10",
        "mysql",
        "c10_claim",
        "id int PRIMARY KEY, method varchar(20) NULL DEFAULT 'MANUAL', "
        "score int NULL DEFAULT 5",
        ["INSERT INTO {t} VALUES (60000, 'PHONE', 1)"],
        [
            "INSERT INTO {t} VALUES (60001, NULL, NULL)",
            "INSERT INTO {t} (id) VALUES (60002)",
        ],
        [
            read({"id": 60000, "method": "PHONE", "score": 1}),
            insert({"id": 60001, "method": None, "score": None}),
            insert({"id": 60002, "method": "MANUAL", "score": 5}),
        ],
        BOTH,
    ),
    Case(
        "C11",
        "mysql",
        "c11_legacy",
        "id int PRIMARY KEY, d_null date NULL, d_nn date NOT NULL, "
        "dt_null datetime NULL",
        [
            "INSERT INTO {t} VALUES "
            "(1, '0000-00-00', '0000-00-00', '0000-00-00 00:00:00')"
        ],
        [
            "INSERT INTO {t} VALUES "
            "(2, '1970-01-01', '1970-01-01', '1970-01-01 00:00:00')",
            "INSERT INTO {t} VALUES "
            "(3, '0000-00-00', '0000-00-00', '0000-00-00 00:00:00')",
        ],
        [
            read({"id": 1, "d_null": None, "d_nn": d("1970-01-01"), "dt_null": None}),
            insert(
                {
                    "id": 2,
                    "d_null": d("1970-01-01"),
                    "d_nn": d("1970-01-01"),
                    "dt_null": dt("1970-01-01T00:00:00"),
                }
            ),
            insert({"id": 3, "d_null": None, "d_nn": d("1970-01-01"), "dt_null": None}),
        ],
        BOTH,
        session=["SET SESSION sql_mode = ''"],
    ),
]


def main(wanted: Sequence[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    env = ensure_up()
    environ = reference_environment(env)
    admins = {
        "postgres": sa.create_engine(env.postgres.url("admin"), poolclass=sa.NullPool),
        "mysql": sa.create_engine(env.mysql.url("admin"), poolclass=sa.NullPool),
    }
    prepare_scratch(admins, env)
    home = Path(f"/tmp/cb-fixtures-{uuid.uuid4().hex[:8]}")
    home.mkdir(parents=True)
    OUT.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        if wanted and case.name not in wanted:
            continue
        record_case(case, admins[case.source], home, environ)
    return 0


def prepare_scratch(admins: dict[str, sa.Engine], env: Any) -> None:
    with admins["postgres"].begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH}")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {SCRATCH} TO cb_capture")
    with admins["mysql"].begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {SCRATCH}")
        connection.execute(sa.text(f"GRANT SELECT ON {SCRATCH}.* TO 'cb_capture'@'%'"))


def record_case(
    case: Case, admin: sa.Engine, home: Path, environ: dict[str, str]
) -> None:
    log.info("recording %s on %s", case.name, case.source)
    publication = f"cbt_fx_{case.table}"
    execute(
        admin,
        case,
        [
            f"DROP TABLE IF EXISTS {case.qualified}",
            f"CREATE TABLE {case.qualified} ({case.ddl})",
        ],
    )
    if case.source == "postgres":
        execute(
            admin,
            case,
            [
                f"ALTER TABLE {case.qualified} "
                f"REPLICA IDENTITY {case.replica_identity or 'FULL'}",
                f"GRANT SELECT ON {case.qualified} TO cb_capture",
                f"DROP PUBLICATION IF EXISTS {publication}",
                f"CREATE PUBLICATION {publication} FOR TABLE {case.qualified}",
            ],
        )
    with admin.connect() as connection:
        types = read_column_types(connection, [case.qualified]).to_json()
    execute(
        admin, case, [s.format(t=case.qualified) for s in case.snapshot], session=True
    )

    sources, collectors, configs = [], {}, {}
    for variant, settings in case.variants.items():
        name = f"fx-{case.name.lower()}-{case.source}-{variant}-{uuid.uuid4().hex[:6]}"
        connector = write_connector(
            home,
            shipped(case),
            name,
            connector_changes(case, variant, settings, publication),
        )
        collectors[variant] = Collector()
        configs[variant] = dict(connector.config)
        sources.append(CaptureSource(connector, collectors[variant]))

    capture = EmbeddedCapture(sources, home=home, environ=environ)
    capture.start()
    try:
        for collector in collectors.values():
            collector.wait_for(
                len(case.snapshot_changes()), "snapshot", capture.raise_if_failed
            )
        execute(
            admin,
            case,
            [s.format(t=case.qualified) for s in case.streaming],
            session=True,
        )
        for collector in collectors.values():
            collector.wait_for(len(case.expected), "changes", capture.raise_if_failed)
        time.sleep(1)  # anything unexpected after the wanted records shows up too
    finally:
        capture.stop()
        cleanup(
            admin,
            case,
            publication,
            [s.connector.config.get("slot.name") for s in sources],
        )

    for variant, collector in collectors.items():
        write_fixture(case, variant, configs[variant], types, collector.records)


def shipped(case: Case) -> str:
    return "credit-china-outcomes" if case.source == "postgres" else "necips-outcomes"


def connector_changes(
    case: Case, variant: str, settings: dict[str, str], publication: str
) -> dict[str, str | None]:
    changes: dict[str, str | None] = {
        "table.include.list": case.qualified,
        "heartbeat.action.query": None,
        "heartbeat.interval.ms": None,
        **settings,
    }
    # Engines in one JVM register their metrics by topic prefix: one each.
    base = "creditchina" if case.source == "postgres" else "necips"
    changes["topic.prefix"] = f"{base}_{variant.replace('-', '_')}"
    if case.source == "postgres":
        changes["publication.name"] = publication
        changes["slot.name"] = f"cbt_fx_{uuid.uuid4().hex[:10]}"
    else:
        changes["database.include.list"] = SCRATCH
        changes["database.server.id"] = str(300_000 + uuid.uuid4().int % 100_000)
    return changes


def execute(
    admin: sa.Engine, case: Case, statements: list[str], session: bool = False
) -> None:
    with admin.begin() as connection:
        for statement in (case.session if session else []) + statements:
            connection.exec_driver_sql(statement)


def cleanup(
    admin: sa.Engine, case: Case, publication: str, slots: list[str | None]
) -> None:
    if case.source != "postgres":
        return
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        for slot in filter(None, slots):
            for _ in range(50):
                row = connection.exec_driver_sql(
                    "SELECT active FROM pg_replication_slots "
                    f"WHERE slot_name = '{slot}'"
                ).first()
                if row is None or not row.active:
                    break
                time.sleep(0.2)
            if row is not None:
                connection.exec_driver_sql(f"SELECT pg_drop_replication_slot('{slot}')")
        connection.exec_driver_sql(f"DROP PUBLICATION IF EXISTS {publication}")


def write_fixture(
    case: Case,
    variant: str,
    config: dict[str, str],
    types: Any,
    records: list[RawRecord],
) -> None:
    rows = [r for r in records if not is_heartbeat(r)]
    if len(rows) != len(case.expected):
        raise SystemExit(
            f"{case.name} {variant}: expected {len(case.expected)} records, got "
            f"{len(rows)}: {[r.value for r in rows]}"
        )
    stem = f"{case.name}-{case.source}-{variant}"
    document = {
        "case": case.name,
        "ddl": f"CREATE TABLE {case.qualified} ({case.ddl})",
        "statements": case.session
        + [s.format(t=case.qualified) for s in case.snapshot + case.streaming],
        "connector": config,
        "column_types": types,
        "records": [{"topic": r.topic, "key": r.key, "value": r.value} for r in rows],
    }
    expected = expected_events(case, rows)
    (OUT / f"{stem}.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    )
    (OUT / f"{stem}.expected.json").write_text(
        json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    )
    log.info("wrote %s (%d records)", stem, len(rows))


def expected_events(case: Case, rows: list[RawRecord]) -> list[dict[str, Any] | None]:
    events: list[dict[str, Any] | None] = []
    last: tuple[int, ...] | None = None
    ordinal = 0
    for record, (op, key, before, after) in zip(rows, case.expected, strict=True):
        if record.value is None:
            if op is not None:
                raise SystemExit(f"{case.name}: tombstone where {op!r} was expected")
            events.append(None)
            continue
        value = json.loads(record.value)
        envelope = value.get("payload", value)
        if envelope["op"] != op:
            raise SystemExit(f"{case.name}: op {envelope['op']!r}, expected {op!r}")
        source = envelope["source"]
        native = native_position(case.source, source)
        ordinal = ordinal + 1 if native == last else 0
        last = native
        events.append(
            {
                "op": op,
                "table": case.qualified,
                "key": key,
                "before": before,
                "after": after,
                "order": [*native, ordinal],
                "snapshot": source.get("snapshot") not in (None, "false", False),
                "transaction_id": transaction_id(case.source, source),
                "committed_at": commit_time(source),
            }
        )
    return events


def native_position(kind: str, source: dict[str, Any]) -> tuple[int, ...]:
    if kind == "postgres":
        sequence = json.loads(source["sequence"]) if source.get("sequence") else [None]
        commit_lsn = int(sequence[0]) if sequence[0] is not None else 0
        return (commit_lsn, int(source["lsn"]))
    file_number = int(str(source["file"]).rsplit(".", 1)[1])
    return (file_number, int(source["pos"]), int(source["row"]))


def transaction_id(kind: str, source: dict[str, Any]) -> str | None:
    native = source.get("gtid") if kind == "mysql" else source.get("txId")
    return None if native is None else str(native)


def commit_time(source: dict[str, Any]) -> str | None:
    micros = source.get("ts_us")
    if not isinstance(micros, int):
        millis = source.get("ts_ms")
        if not isinstance(millis, int):
            return None
        micros = millis * 1000
    return (
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    ).isoformat()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
