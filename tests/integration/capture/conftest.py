"""Real PostgreSQL and MySQL sources for the capture tests.

Every test gets its own table in the scratch namespace ``cb_capture_test`` (schema on
PostgreSQL, database on MySQL) and, on PostgreSQL, its own publication and
replication slot, so tests never read or disturb the demo tables or each other. The
shipped connector files are copied with only those names changed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from capture_support import (
    SCRATCH,
    MysqlSource,
    PgSource,
    reference_environment,
    write_connector,
)


@pytest.fixture(scope="session")
def dev_env() -> Any:
    from bridge.devenv.api import ensure_up

    return ensure_up()


@pytest.fixture(scope="session")
def environ(dev_env: Any) -> dict[str, str]:
    return reference_environment(dev_env)


@pytest.fixture(scope="session")
def pg_admin(dev_env: Any) -> Iterator[sa.Engine]:
    engine = sa.create_engine(dev_env.postgres.url("admin"), poolclass=sa.NullPool)
    capture = dev_env.postgres.capture.user
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH}")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {SCRATCH} TO {capture}")
    yield engine
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
    engine.dispose()


@pytest.fixture(scope="session")
def mysql_admin(dev_env: Any) -> Iterator[sa.Engine]:
    engine = sa.create_engine(dev_env.mysql.url("admin"), poolclass=sa.NullPool)
    capture = dev_env.mysql.capture.user
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {SCRATCH}")
        # text() escapes the '%' that PyMySQL would read as a parameter.
        connection.execute(sa.text(f"GRANT SELECT ON {SCRATCH}.* TO '{capture}'@'%'"))
    yield engine
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCRATCH}")
    engine.dispose()


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def pg_source(
    pg_admin: sa.Engine, dev_env: Any, tmp_path: Path
) -> Iterator[Callable[..., PgSource]]:
    """``make(columns, replica_identity=None, settings=None)``; *settings* change
    the copied connector file."""
    made: list[PgSource] = []

    def make(
        columns: str,
        replica_identity: str | None = None,
        settings: dict[str, str | None] | None = None,
    ) -> PgSource:
        table, name = _unique("t"), _unique("cbt").replace("_", "-")
        publication, slot = _unique("cbt_pub"), _unique("cbt_slot")
        with pg_admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE TABLE {SCRATCH}.{table} ({columns})")
            if replica_identity:
                connection.exec_driver_sql(
                    f"ALTER TABLE {SCRATCH}.{table} REPLICA IDENTITY {replica_identity}"
                )
            connection.exec_driver_sql(
                f"GRANT SELECT ON {SCRATCH}.{table} TO {dev_env.postgres.capture.user}"
            )
            connection.exec_driver_sql(
                f"CREATE PUBLICATION {publication} FOR TABLE {SCRATCH}.{table}"
            )
        changes = {
            "publication.name": publication,
            "slot.name": slot,
            "table.include.list": f"{SCRATCH}.{table}",
            "heartbeat.action.query": None,
            "heartbeat.interval.ms": None,
            **(settings or {}),
        }
        connector = write_connector(tmp_path, "credit-china-outcomes", name, changes)
        source = PgSource(table, publication, slot, connector, pg_admin)
        made.append(source)
        return source

    yield make
    for source in made:
        _drop_pg_source(pg_admin, source)


def _drop_pg_source(admin: sa.Engine, source: PgSource) -> None:
    deadline = time.monotonic() + 30
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        while time.monotonic() < deadline:
            row = connection.exec_driver_sql(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = "
                f"'{source.slot}'"
            ).first()
            if row is None:
                break
            if row.active_pid is None:
                connection.exec_driver_sql(
                    f"SELECT pg_drop_replication_slot('{source.slot}')"
                )
                break
            time.sleep(0.2)
        connection.exec_driver_sql(f"DROP PUBLICATION IF EXISTS {source.publication}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {source.qualified}")


@pytest.fixture
def mysql_source(
    mysql_admin: sa.Engine, tmp_path: Path
) -> Iterator[Callable[..., MysqlSource]]:
    """``make(columns, settings=None)``: a scratch table and its connector file."""
    made: list[MysqlSource] = []

    def make(
        columns: str, settings: dict[str, str | None] | None = None
    ) -> MysqlSource:
        table, name = _unique("t"), _unique("cbt").replace("_", "-")
        with mysql_admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE TABLE {SCRATCH}.{table} ({columns})")
        changes = {
            "database.server.id": str(200_000 + uuid.uuid4().int % 100_000),
            "database.include.list": SCRATCH,
            "table.include.list": f"{SCRATCH}.{table}",
            "heartbeat.action.query": None,
            "heartbeat.interval.ms": None,
            **(settings or {}),
        }
        connector = write_connector(tmp_path, "necips-outcomes", name, changes)
        source = MysqlSource(table, connector, mysql_admin)
        made.append(source)
        return source

    yield make
    with mysql_admin.begin() as connection:
        for source in made:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {source.qualified}")
