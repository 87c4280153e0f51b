"""A source transaction is never visible half-applied in the target (embedded path).

Each test runs ``creditbridge run --dev`` as a child on its own scratch tables,
connector names, topic prefixes and replication slot (copies of the shipped connector
files with ``max.batch.size`` 500), so the demo pipelines are not touched. A source
transaction of 5,000 rows then reaches the bridge in ten or more batches.

Every target table has an audit table filled by a trigger on insert and update, so
"applied exactly once" is counted, not inferred from the upsert's idempotence.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from bridge_process import REPO, BridgeProcess, wait_until
from ruamel.yaml import YAML

from bridge.devenv.api import DevEnv
from bridge.devenv.procs import free_port

pytestmark = [pytest.mark.db, pytest.mark.capture]

SCRATCH = "cb_txn_test"
ROWS = 5000
BATCH = "500"
SENTINEL = 0

MAPPING = """\
version: 1
source: {table: %(source)s}
target: {table: %(target)s, key: [id]}
columns:
  id: {from: id}
  v: {from: v}
on_delete: {policy: delete}
conflict: {policy: source_wins}
"""


@dataclass
class Leg:
    """One direction under test: a scratch source table, its staging table and
    audit table on the other side, a connector file and a mapping file."""

    pipeline: str
    kind: str  # the source: "postgres" or "mysql"
    source: sa.Engine
    target: sa.Engine
    table: str
    connector: Path
    mapping: Path
    slot: str | None = None
    publication: str | None = None

    @property
    def source_table(self) -> str:
        return f"{SCRATCH}.{self.table}_src"

    @property
    def target_table(self) -> str:
        return f"{SCRATCH}.{self.table}_dst"

    @property
    def audit_table(self) -> str:
        return f"{SCRATCH}.{self.table}_audit"

    @property
    def target_name(self) -> str:
        return "necips" if self.kind == "postgres" else "credit_china"

    def insert(self, first: int, last: int) -> None:
        """Rows *first*..*last* in one source transaction."""
        rows = [{"id": n, "v": f"v{n}"} for n in range(first, last + 1)]
        with self.source.begin() as connection:
            connection.execute(
                sa.text(f"INSERT INTO {self.source_table} (id, v) VALUES (:id, :v)"),
                rows,
            )

    def staged(self) -> int:
        return _scalar(self.target, f"SELECT count(*) FROM {self.target_table}")

    def held(self, process: BridgeProcess) -> int:
        """Events the bridge holds in memory after its last batch, from its log."""
        held = re.findall(
            rf"pipeline {re.escape(self.pipeline)}: .*, (\d+) held until their "
            "transaction ends",
            process.output(),
        )
        return int(held[-1]) if held else 0

    def applied_more_than_once(self) -> list[tuple[int, int]]:
        query = (
            f"SELECT id, count(*) FROM {self.audit_table} GROUP BY id "
            "HAVING count(*) <> 1 ORDER BY id"
        )
        with self.target.connect() as connection:
            return [(row[0], row[1]) for row in connection.exec_driver_sql(query)]

    def audited(self) -> int:
        return _scalar(self.target, f"SELECT count(*) FROM {self.audit_table}")


def _scalar(engine: sa.Engine, query: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(query).scalar_one())


class CountWatcher:
    """Polls ``SELECT count(*)`` of a staging table in a thread, in autocommit, and
    keeps every distinct count it saw, until it sees *last*."""

    def __init__(self, engine: sa.Engine, table: str, last: int) -> None:
        self.seen: set[int] = set()
        self.polls = 0
        self._engine = engine
        self._table = table
        self._last = last
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> CountWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wait_done(self, timeout: float = 180.0) -> None:
        self._thread.join(timeout)
        assert self._last in self.seen, (
            f"{self._table} never reached {self._last}; seen {sorted(self.seen)}"
        )

    def _poll(self) -> None:
        query = f"SELECT count(*) FROM {self._table}"
        engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            while not self._stop.is_set():
                count = int(connection.exec_driver_sql(query).scalar_one())
                self.seen.add(count)
                self.polls += 1
                if count == self._last:
                    return


@pytest.fixture(scope="module")
def admins(dev_env: DevEnv) -> Iterator[dict[str, sa.Engine]]:
    """Admin engines with the scratch namespace on both servers."""
    pg = sa.create_engine(dev_env.postgres.url("admin"), poolclass=sa.NullPool)
    my = sa.create_engine(dev_env.mysql.url("admin"), poolclass=sa.NullPool)
    capture, writer = dev_env.postgres.capture.user, dev_env.postgres.writer.user
    with pg.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH}")
        connection.exec_driver_sql(
            f"GRANT USAGE ON SCHEMA {SCRATCH} TO {capture}, {writer}"
        )
    with my.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {SCRATCH}")
    yield {"postgres": pg, "mysql": my}
    with pg.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
    with my.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCRATCH}")
    pg.dispose()
    my.dispose()


@pytest.fixture
def legs(
    admins: dict[str, sa.Engine], dev_env: DevEnv, tmp_path: Path
) -> Iterator[Callable[[str], Leg]]:
    """``make("postgres" | "mysql")``: a leg whose source is that server."""
    made: list[Leg] = []

    def make(kind: str) -> Leg:
        other = "mysql" if kind == "postgres" else "postgres"
        tag = uuid.uuid4().hex[:8]
        leg = Leg(
            pipeline=f"txtest-{kind}-{tag}",
            kind=kind,
            source=admins[kind],
            target=admins[other],
            table=f"t{tag}",
            connector=tmp_path / f"txtest-{kind}-{tag}.json",
            mapping=tmp_path / f"txtest-{kind}-{tag}.yaml",
        )
        made.append(leg)
        _create_tables(leg, dev_env)
        _write_connector(leg)
        leg.mapping.write_text(
            MAPPING % {"source": leg.source_table, "target": leg.target_table},
            encoding="utf-8",
        )
        return leg

    yield make
    for leg in made:
        _drop(leg)


def _create_tables(leg: Leg, env: DevEnv) -> None:
    if leg.kind == "postgres":
        _pg_source(leg, env)
        _mysql_target(leg, env)
    else:
        _mysql_source(leg, env)
        _pg_target(leg, env)


def _pg_source(leg: Leg, env: DevEnv) -> None:
    leg.slot = f"cbtx_{leg.table}"
    leg.publication = f"cbtx_pub_{leg.table}"
    with leg.source.begin() as connection:
        run = connection.exec_driver_sql
        run(f"CREATE TABLE {leg.source_table} (id int PRIMARY KEY, v text)")
        run(f"GRANT SELECT ON {leg.source_table} TO {env.postgres.capture.user}")
        run(f"CREATE PUBLICATION {leg.publication} FOR TABLE {leg.source_table}")


def _mysql_source(leg: Leg, env: DevEnv) -> None:
    with leg.source.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE {leg.source_table} (id int PRIMARY KEY, v varchar(20))"
        )
        connection.execute(
            sa.text(
                f"GRANT SELECT ON {leg.source_table} TO '{env.mysql.capture.user}'@'%'"
            )
        )


def _mysql_target(leg: Leg, env: DevEnv) -> None:
    with leg.target.begin() as connection:
        run = connection.exec_driver_sql
        run(f"CREATE TABLE {leg.target_table} (id int PRIMARY KEY, v varchar(20))")
        run(f"CREATE TABLE {leg.audit_table} (id int NOT NULL)")
        for event in ("INSERT", "UPDATE"):
            run(
                f"CREATE TRIGGER {SCRATCH}.{leg.table}_{event.lower()} "
                f"AFTER {event} ON {leg.target_table} FOR EACH ROW "
                f"INSERT INTO {leg.audit_table} (id) VALUES (NEW.id)"
            )
        connection.execute(
            sa.text(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON "
                f"{leg.target_table} TO '{env.mysql.writer.user}'@'%'"
            )
        )


def _pg_target(leg: Leg, env: DevEnv) -> None:
    writer = env.postgres.writer.user
    with leg.target.begin() as connection:
        run = connection.exec_driver_sql
        run(f"CREATE TABLE {leg.target_table} (id int PRIMARY KEY, v text)")
        run(f"CREATE TABLE {leg.audit_table} (id int NOT NULL)")
        # SECURITY DEFINER: the writer account has no rights on the audit table.
        run(
            f"CREATE FUNCTION {SCRATCH}.{leg.table}_audit() RETURNS trigger "
            "LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN "
            f"INSERT INTO {leg.audit_table} (id) VALUES (NEW.id); RETURN NEW; END $$"
        )
        run(
            f"CREATE TRIGGER {leg.table}_audit AFTER INSERT OR UPDATE ON "
            f"{leg.target_table} FOR EACH ROW EXECUTE FUNCTION "
            f"{SCRATCH}.{leg.table}_audit()"
        )
        run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {leg.target_table} TO {writer}")


def _write_connector(leg: Leg) -> None:
    shipped = "credit-china-outcomes" if leg.kind == "postgres" else "necips-outcomes"
    raw = json.loads((REPO / "connectors" / f"{shipped}.json").read_text("utf-8"))
    config = dict(raw["config"])
    for key in ("heartbeat.interval.ms", "heartbeat.action.query"):
        config.pop(key, None)
    config.update(
        {
            "topic.prefix": f"cbtx{leg.table}",
            "table.include.list": leg.source_table,
            "max.batch.size": BATCH,
            "provide.transaction.metadata": "true",
        }
    )
    if leg.kind == "postgres":
        config["slot.name"] = leg.slot or ""
        config["publication.name"] = leg.publication or ""
    else:
        config["database.include.list"] = SCRATCH
        config["database.server.id"] = str(300_000 + uuid.uuid4().int % 100_000)
    leg.connector.write_text(json.dumps({"name": leg.pipeline, "config": config}))


def _drop(leg: Leg) -> None:
    if leg.slot is not None:
        _drop_slot(leg.source, leg.slot)
        with leg.source.begin() as connection:
            connection.exec_driver_sql(f"DROP PUBLICATION IF EXISTS {leg.publication}")
    with leg.source.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {leg.source_table}")
    with leg.target.begin() as connection:
        for table in (leg.target_table, leg.audit_table):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        for table in ("checkpoint", "pending_event", "dead_letter", "conflict"):
            connection.execute(
                sa.text(f"DELETE FROM bridge.{table} WHERE pipeline = :pipeline"),
                {"pipeline": leg.pipeline},
            )


def _drop_slot(admin: sa.Engine, slot: str) -> None:
    deadline = time.monotonic() + 30
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        while time.monotonic() < deadline:
            row = connection.exec_driver_sql(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = "
                f"'{slot}'"
            ).first()
            if row is None:
                return
            if row.active_pid is None:
                connection.exec_driver_sql(f"SELECT pg_drop_replication_slot('{slot}')")
                return
            time.sleep(0.2)


def write_run_config(directory: Path, *legs: Leg) -> tuple[Path, int]:
    port = free_port()
    config = {
        "home": str(directory / "home"),
        "databases": {
            "credit_china": {"url": "${env:CREDITBRIDGE_PG_WRITER_URL}"},
            "necips": {"url": "${env:CREDITBRIDGE_MYSQL_WRITER_URL}"},
        },
        "pipelines": [
            {
                "name": leg.pipeline,
                "connector": str(leg.connector),
                "mappings": [str(leg.mapping)],
                "target": leg.target_name,
            }
            for leg in legs
        ],
        "observe": {"http_port": port},
        "jvm": {"heap": "384m", "debezium_log_level": "WARN"},
    }
    path = directory / "run.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML(typ="safe").dump(config, handle)
    return path, port


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Callable[..., BridgeProcess]]:
    """``bridge(*legs)`` starts a ``creditbridge run --dev`` child streaming *legs*
    and waits until a sentinel row of each has crossed."""
    started: list[BridgeProcess] = []

    def start(*legs: Leg) -> BridgeProcess:
        config, port = write_run_config(tmp_path, *legs)
        process = BridgeProcess(config, port, tmp_path).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def streaming(process: BridgeProcess, *legs: Leg) -> None:
    """Wait until the sentinel row of each leg is in its staging table."""
    for leg in legs:
        leg.insert(SENTINEL, SENTINEL)
    for leg in legs:
        wait_until(lambda leg=leg: leg.staged() == 1, "the sentinel", bridge=process)


def test_a_large_transaction_is_never_seen_half_applied_both_ways(
    legs: Callable[[str], Leg], bridge: Callable[..., BridgeProcess]
) -> None:
    to_necips, to_credit_china = legs("postgres"), legs("mysql")
    process = bridge(to_necips, to_credit_china)
    streaming(process, to_necips, to_credit_china)

    with (
        CountWatcher(to_necips.target, to_necips.target_table, ROWS + 1) as mysql,
        CountWatcher(
            to_credit_china.target, to_credit_china.target_table, ROWS + 1
        ) as postgres,
    ):
        to_necips.insert(1, ROWS)
        to_credit_china.insert(1, ROWS)
        mysql.wait_done()
        postgres.wait_done()

    # Only "before" and "after": never a count strictly between them.
    assert (mysql.seen, postgres.seen) == ({1, ROWS + 1}, {1, ROWS + 1})
    for leg in (to_necips, to_credit_china):
        assert (leg.held(process), leg.audited(), leg.applied_more_than_once()) == (
            0,
            ROWS + 1,
            [],
        )
    assert "held until their transaction ends" in process.output()


@pytest.mark.parametrize("stop", ["sigkill", "sigterm"])
@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_a_stop_while_the_tail_is_held_loses_and_repeats_nothing(
    kind: str,
    stop: str,
    legs: Callable[[str], Leg],
    bridge: Callable[..., BridgeProcess],
) -> None:
    leg = legs(kind)
    process = bridge(leg)
    streaming(process, leg)

    leg.insert(1, ROWS)
    wait_until(
        lambda: leg.held(process) > 0, "held events", timeout=120, bridge=process
    )
    if stop == "sigkill":
        process.kill()
    else:
        process.terminate()
        assert process.wait_exit() == 0
    held_at_kill = leg.held(process)

    restarted = bridge(leg)
    wait_until(
        lambda: leg.staged() == ROWS + 1 and leg.held(restarted) == 0,
        "the whole transaction after the restart",
        timeout=180,
        bridge=restarted,
    )

    assert 0 < held_at_kill < ROWS
    # After either stop, the transaction's END came after the restart: no transaction
    # was completed by a later one, no event count differed.
    assert "WARNING bridge.apply.pending" not in restarted.output()
    assert (leg.audited(), leg.applied_more_than_once()) == (ROWS + 1, [])
    with leg.target.connect() as connection:
        values = dict(
            connection.exec_driver_sql(f"SELECT id, v FROM {leg.target_table}").all()
        )
    assert values == {n: f"v{n}" for n in range(ROWS + 1)}
