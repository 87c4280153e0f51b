"""Least-privilege accounts and server settings on the shared dev servers."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bridge.devenv.api import DevEnv

pytestmark = pytest.mark.db

EngineFor = Callable[..., sa.Engine]


def _error(engine: sa.Engine, statement: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as connection:
        connection.exec_driver_sql(statement)
    return str(caught.value.orig)


@pytest.mark.parametrize("table", ["xyzg.xyxf_jg", "xyzg.xzcf_gs"])
def test_postgres_writer_cannot_touch_native_tables(
    engine_for: EngineFor, table: str
) -> None:
    writer = engine_for("postgresql", "writer")
    name = table.split(".")[1]

    error = _error(writer, f"DELETE FROM {table}")

    assert error == f"permission denied for table {name}"


@pytest.mark.parametrize("table", ["E_CR_REPAIR", "E_CASE_PUB"])
def test_mysql_writer_cannot_touch_native_tables(
    engine_for: EngineFor, table: str
) -> None:
    writer = engine_for("mysql", "writer")

    assert _error(writer, f"DELETE FROM gsxt.{table}") == (
        f"(1142, \"DELETE command denied to user 'cb_writer'@'127.0.0.1' for table "
        f"'{table}'\")"
    )


def test_capture_cannot_write_the_staging_tables(engine_for: EngineFor) -> None:
    postgres = engine_for("postgresql", "capture")
    mysql = engine_for("mysql", "capture")

    assert _error(postgres, "DELETE FROM xyzg.xyxf_jg_gsxt") == (
        "permission denied for table xyxf_jg_gsxt"
    )
    assert _error(mysql, "DELETE FROM gsxt.E_CR_REPAIR_XYZG") == (
        "(1142, \"DELETE command denied to user 'cb_capture'@'127.0.0.1' for table "
        "'E_CR_REPAIR_XYZG'\")"
    )


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_capture_beats_its_heartbeat(engine_for: EngineFor, kind: str) -> None:
    capture, admin = engine_for(kind, "capture"), engine_for(kind, "admin")
    pipeline = f"test-devenv-{uuid.uuid4().hex[:12]}"
    try:
        with capture.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO bridge.heartbeat (pipeline, beat_at, seq) "
                        "VALUES (:p, CURRENT_TIMESTAMP, 1)"), {"p": pipeline})
            connection.execute(sa.text(
                "UPDATE bridge.heartbeat SET seq = seq + 1 WHERE pipeline = :p"),
                {"p": pipeline})
        with admin.connect() as connection:
            seq = connection.execute(
                sa.text("SELECT seq FROM bridge.heartbeat WHERE pipeline = :p"),
                {"p": pipeline}).scalar_one()
        assert seq == 2
    finally:
        with admin.begin() as connection:
            connection.execute(
                sa.text("DELETE FROM bridge.heartbeat WHERE pipeline = :p"),
                {"p": pipeline})


def test_writer_can_write_bridge_tables_created_later(engine_for: EngineFor) -> None:
    """Pins: the writer losing rights on bridge tables the apply stage adds later."""
    admin = engine_for("postgresql", "admin")
    writer = engine_for("postgresql", "writer")
    table = f"bridge.test_devenv_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {table} (x int)")
    try:
        with writer.begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
            assert connection.exec_driver_sql(f"SELECT x FROM {table}").scalar() == 1
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE {table}")


def test_postgres_is_ready_for_debezium(engine_for: EngineFor) -> None:
    with engine_for("postgresql", "admin").connect() as connection:
        settings = {name: connection.exec_driver_sql(f"SHOW {name}").scalar()
                    for name in ("wal_level", "max_replication_slots",
                                 "max_wal_senders", "listen_addresses")}
        published = connection.exec_driver_sql(
            "SELECT schemaname || '.' || tablename FROM pg_publication_tables "
            "WHERE pubname = 'creditbridge_pub' ORDER BY 1").scalars().all()
        identity = connection.exec_driver_sql(
            "SELECT relreplident FROM pg_class WHERE oid = 'xyzg.xyxf_jg'::regclass"
        ).scalar()
        replication = connection.exec_driver_sql(
            "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = 'cb_capture'"
        ).one()

    assert settings == {"wal_level": "logical", "max_replication_slots": "20",
                        "max_wal_senders": "20", "listen_addresses": "127.0.0.1"}
    assert published == ["bridge.heartbeat", "xyzg.xyxf_jg"]
    assert identity == "f"
    assert tuple(replication) == (True, False)


def test_mysql_is_ready_for_debezium(engine_for: EngineFor, dev_env: DevEnv) -> None:
    names = ("log_bin", "binlog_format", "binlog_row_image", "gtid_mode",
             "enforce_gtid_consistency", "character_set_server", "time_zone",
             "bind_address")
    with engine_for("mysql", "admin").connect() as connection:
        rows = connection.exec_driver_sql(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN "
            f"({', '.join(repr(name) for name in names)})").all()
        x_plugins = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.PLUGINS "
            "WHERE PLUGIN_NAME = 'mysqlx' AND PLUGIN_STATUS = 'ACTIVE'").scalar()

    assert x_plugins == 0
    assert dict(rows) == {
        "log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL",
        "gtid_mode": "ON", "enforce_gtid_consistency": "ON",
        "character_set_server": "utf8mb4", "time_zone": "+00:00",
        "bind_address": "127.0.0.1",
    }
    assert dev_env.mysql.port != 3306
