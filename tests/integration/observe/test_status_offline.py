"""Status read from the real bridge tables and slots while the bridge is stopped."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bridge.apply import install_bridge_tables, make_engine
from bridge.apply.schema import checkpoint, dead_letter
from bridge.cli.main import app
from bridge.events import SourcePosition
from bridge.observe.http import ObserveServer
from bridge.observe.lag import read_slot_retention
from bridge.observe.metrics import Metrics
from bridge.observe.offline import read_database_status
from bridge.observe.status import MemoryStatusSource, PipelineStatus

pytestmark = pytest.mark.db

T0 = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)
ID_NUMBER = "520102199003073128"


@pytest.fixture(scope="module")
def dev_env() -> Any:
    from bridge.devenv.api import ensure_up

    return ensure_up()


@pytest.fixture
def pipelines(dev_env: Any) -> Iterator[dict[str, str]]:
    """One test pipeline per target, with a checkpoint and dead letters each."""
    suffix = uuid.uuid4().hex[:10]
    names = {"postgresql": f"obs-test-n2c-{suffix}", "mysql": f"obs-test-c2n-{suffix}"}
    servers = {"postgresql": dev_env.postgres, "mysql": dev_env.mysql}
    for kind, name in names.items():
        engine = make_engine(servers[kind].url("admin"))
        with engine.begin() as connection:
            install_bridge_tables(connection, kind)
            _seed(connection, name, kind)
        engine.dispose()

    yield names

    for kind, name in names.items():
        engine = make_engine(servers[kind].url("admin"))
        with engine.begin() as connection:
            for table in (checkpoint, dead_letter):
                connection.execute(table.delete().where(table.c.pipeline == name))
        engine.dispose()


def _position(kind: str) -> SourcePosition:
    if kind == "postgresql":
        return SourcePosition("necips", (3, 4567, 0, 0),
                              fields={"file": "binlog.000003", "pos": 4567})
    return SourcePosition("credit_china", (23803208, 23803208, 0),
                          fields={"lsn": "0/16B3748"})


def _seed(connection: sa.Connection, pipeline: str, kind: str) -> None:
    position = _position(kind)
    connection.execute(checkpoint.insert().values(
        pipeline=pipeline, source=position.source, position=position.to_json(),
        position_order=json.dumps(list(position.order)), updated_at=T0,
    ))
    for number, status in ((1, "new"), (2, "new"), (3, "replayed")):
        connection.execute(dead_letter.insert().values(
            pipeline=pipeline, fingerprint=f"{pipeline}-{number}",
            created_at=T0.replace(minute=number), source_table="xyxf_jg",
            event_key=json.dumps({"xf_bh": f"XF00{number}"}),
            source_position=position.to_json(),
            position_order=json.dumps(list(position.order)), event="{}",
            mapping_name="outcomes", mapping_path="mappings/outcomes.yaml",
            mapping_version="1", error_class="MappingError",
            message=f"natural person {ID_NUMBER} does not cross", status=status,
        ))


def databases(dev_env: Any) -> dict[str, tuple[str, str]]:
    return {
        "credit_china": (dev_env.postgres.url("writer"), "NECIPS → Credit China"),
        "necips": (dev_env.mysql.url("writer"), "Credit China → NECIPS"),
    }


def test_offline_status_from_both_targets(
    dev_env: Any, pipelines: dict[str, str]
) -> None:
    report = read_database_status(
        databases(dev_env), pipelines=set(pipelines.values()), now=T0
    )

    assert report.origin == "databases"
    assert report.problems == []
    assert report.pipelines == [
        PipelineStatus(
            name=pipelines["postgresql"], direction="NECIPS → Credit China",
            state="stopped", last_position="necips file=binlog.000003 pos=4567",
            last_applied_at=T0, dead_letters=2,
        ),
        PipelineStatus(
            name=pipelines["mysql"], direction="Credit China → NECIPS",
            state="stopped", last_position="credit_china lsn=0/16B3748",
            last_applied_at=T0, dead_letters=2,
        ),
    ]
    letters = [(d.pipeline, d.key, d.error, d.failed_at, d.position)
               for d in report.dead_letters]
    error = "MappingError: natural person 520102********3128 does not cross"
    assert sorted(letters) == sorted(
        (pipelines[kind], f"XF00{n}", error, T0.replace(minute=n),
         str(_position(kind)))
        for kind in ("postgresql", "mysql") for n in (1, 2)
    )


def test_pipelines_come_in_the_order_of_the_run_configuration(
    dev_env: Any, pipelines: dict[str, str]
) -> None:
    """Pins: the stopped bridge listing its pipelines in another order than the
    running one (by database, not as configured)."""
    configured = [pipelines["mysql"], pipelines["postgresql"]]

    report = read_database_status(
        databases(dev_env), pipelines=set(configured), now=T0, order=configured
    )

    assert [p.name for p in report.pipelines] == configured


def test_unreachable_database_is_named_with_its_password_hidden() -> None:
    port = _free_port()
    report = read_database_status({
        "necips": (f"mysql+pymysql://cb_writer:Wr1ter-7f3c9a2e@127.0.0.1:{port}/gsxt",
                   "Credit China → NECIPS"),
    })

    assert report.pipelines == []
    assert report.problems == [
        "database necips: cannot read the bridge tables ((2003, \"Can't connect to "
        "MySQL server on '127.0.0.1' ([Errno 111] Connection refused)\")); "
        "its pipelines are left out of this report"
    ]


def test_slot_retention_of_a_real_slot(dev_env: Any) -> None:
    slot = f"obs_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(dev_env.postgres.url("admin"))
    writer = make_engine(dev_env.postgres.url("writer"))
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(
                "SELECT pg_create_physical_replication_slot(:slot, true)"
            ), {"slot": slot})
            restart = connection.execute(sa.text(
                "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = :slot"
            ), {"slot": slot}).scalar_one()
            connection.execute(sa.text(
                "CREATE TEMP TABLE obs_wal AS SELECT g FROM generate_series(1, 5000) g"
            ))
        with admin.connect() as connection:
            low = _bytes_since(connection, restart)

        with writer.connect() as connection:
            retained = read_slot_retention(connection)[slot]

        with admin.connect() as connection:
            high = _bytes_since(connection, restart)
        # Other tests write WAL at the same time: the exact figure lies between the
        # server's own measurements just before and just after.
        assert low > 0
        assert low <= retained <= high
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text("SELECT pg_drop_replication_slot(:slot)"),
                               {"slot": slot})
        admin.dispose()
        writer.dispose()


def test_a_pipeline_shows_the_retention_of_its_slot(
    dev_env: Any, pipelines: dict[str, str]
) -> None:
    """Pins: `slot retention -` beside a slot table that knows the slot's size."""
    slot = f"obs_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(dev_env.postgres.url("admin"))
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(
                "SELECT pg_create_physical_replication_slot(:slot, true)"
            ), {"slot": slot})

        report = read_database_status(
            databases(dev_env), pipelines=set(pipelines.values()),
            slots={pipelines["mysql"]: slot, pipelines["postgresql"]: "no_such_slot"},
        )
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text("SELECT pg_drop_replication_slot(:slot)"),
                               {"slot": slot})
        admin.dispose()

    retention = {p.name: p.slot_retained_bytes for p in report.pipelines}
    assert retention == {
        pipelines["mysql"]: report.replication_slots[slot],
        pipelines["postgresql"]: None,
    }


def _bytes_since(connection: sa.Connection, lsn: str) -> int:
    return int(connection.execute(sa.text(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(:lsn AS pg_lsn))::bigint"
    ), {"lsn": lsn}).scalar_one())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_reads_the_databases_when_the_bridge_is_stopped(
    pipelines: dict[str, str],
) -> None:
    url = f"http://127.0.0.1:{_free_port()}"

    result = CliRunner().invoke(app, ["status", "--json", "--url", url])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["origin"] == "databases"
    ours = {p["name"]: p for p in data["pipelines"] if p["name"] in pipelines.values()}
    assert ours[pipelines["mysql"]] == {
        "name": pipelines["mysql"], "direction": "Credit China -> NECIPS",
        "state": "stopped", "lag_seconds": None,
        "last_position": "credit_china lsn=0/16B3748",
        "last_applied_at": "2026-12-03T09:00:00+00:00", "events_per_second": None,
        "applied_total": None, "dead_letters": 2, "slot_retained_bytes": None,
    }
    # The arrow of the running bridge, whose run configuration describes pipelines.
    assert ours[pipelines["postgresql"]]["direction"] == "NECIPS -> Credit China"


def test_cli_asks_the_running_bridge() -> None:
    source = MemoryStatusSource(now=lambda: T0)
    source.set_pipeline(PipelineStatus(
        "xyzg-to-gsxt", "Credit China → NECIPS", "running", lag_seconds=1.5,
        last_position="credit_china lsn=0/16B3748", events_per_second=12.0,
        dead_letters=1, slot_retained_bytes=2048,
    ))
    with ObserveServer(Metrics(), source, port=0) as server:
        as_json = CliRunner().invoke(app, ["status", "--json", "--url", server.url])
        as_tables = CliRunner(env={"COLUMNS": "100"}).invoke(
            app, ["status", "--url", server.url]
        )

    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == server.status_json()
    assert as_tables.exit_code == 0, as_tables.output
    lines = [line.rstrip() for line in as_tables.output.splitlines()]
    assert lines[:12] == [
        f"running bridge at {server.url}",
        "Pipelines",
        "┏━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃                       ┃ xyzg-to-gsxt               ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩",
        "│ direction             │ Credit China → NECIPS      │",
        "│ state                 │ running                    │",
        "│ lag                   │ 1.5 s                      │",
        "│ throughput            │ 12.0 events/s              │",
        "│ last applied position │ credit_china lsn=0/16B3748 │",
        "│ last applied at (UTC) │ -                          │",
        "│ dead letters          │ 1                          │",
    ]
