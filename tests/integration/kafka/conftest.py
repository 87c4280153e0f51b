"""Fixtures of the scale-out path: Tansu broker, Connect worker, test tables.

Every test table lives in PostgreSQL schema ``kafka_test`` or MySQL database
``kafka_test``, and replication slots and pipelines carry a ``kafka_test`` prefix, so
other helpers' tests on the shared servers are not disturbed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from kafka_support import PG_PUBLICATION, PG_SLOT

from bridge.devenv.api import ensure_up
from bridge.devenv.broker import Broker, start_broker, stop_broker
from bridge.devenv.connect import JETTY_JAR_ENV, jetty_security_jar
from bridge.devenv.home import resolve_home
from bridge.devenv.model import DevEnv


@pytest.fixture(scope="session")
def dev_env() -> DevEnv:
    return ensure_up()


@pytest.fixture(scope="session", autouse=True)
def _jetty_security_jar() -> None:
    """Locate (or fetch) the jar once per session, cached in the real home."""
    if not os.environ.get(JETTY_JAR_ENV):
        os.environ[JETTY_JAR_ENV] = str(jetty_security_jar(resolve_home()))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = start_broker(tmp_path_factory.mktemp("tansu"))
    yield running
    stop_broker(running)


@pytest.fixture(scope="module")
def pg_admin(dev_env: DevEnv) -> Iterator[sa.Engine]:
    engine = sa.create_engine(dev_env.postgres.url("admin"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_source(pg_admin: sa.Engine) -> Iterator[sa.Engine]:
    """Schema ``kafka_test`` with table ``outcome`` in a publication of its own."""
    _drop_pg_source(pg_admin)
    with pg_admin.begin() as c:
        c.execute(sa.text("CREATE SCHEMA kafka_test"))
        c.execute(
            sa.text(
                "CREATE TABLE kafka_test.outcome "
                "(id integer PRIMARY KEY, note text NOT NULL)"
            )
        )
        c.execute(sa.text("ALTER TABLE kafka_test.outcome REPLICA IDENTITY FULL"))
        c.execute(sa.text("GRANT USAGE ON SCHEMA kafka_test TO cb_capture"))
        c.execute(
            sa.text("GRANT SELECT ON ALL TABLES IN SCHEMA kafka_test TO cb_capture")
        )
        c.execute(
            sa.text(f"CREATE PUBLICATION {PG_PUBLICATION} FOR TABLE kafka_test.outcome")
        )
    yield pg_admin
    _drop_pg_source(pg_admin)


def _drop_pg_source(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.execute(
            sa.text(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = :slot AND NOT active"
            ),
            {"slot": PG_SLOT},
        )
        c.execute(sa.text(f"DROP PUBLICATION IF EXISTS {PG_PUBLICATION}"))
        c.execute(sa.text("DROP SCHEMA IF EXISTS kafka_test CASCADE"))


@pytest.fixture(scope="module")
def mysql_source(dev_env: DevEnv) -> Iterator[sa.Engine]:
    """Database ``kafka_test`` with table ``outcome``, readable by cb_capture."""
    engine = sa.create_engine(dev_env.mysql.url("admin"))
    with engine.begin() as c:
        c.execute(sa.text("DROP DATABASE IF EXISTS kafka_test"))
        c.execute(sa.text("CREATE DATABASE kafka_test CHARACTER SET utf8mb4"))
        c.execute(
            sa.text(
                "CREATE TABLE kafka_test.outcome "
                "(id INT PRIMARY KEY, note VARCHAR(200) NOT NULL)"
            )
        )
        c.execute(sa.text("GRANT SELECT, LOCK TABLES ON kafka_test.* TO cb_capture"))
    yield engine
    with engine.begin() as c:
        c.execute(sa.text("REVOKE SELECT, LOCK TABLES ON kafka_test.* FROM cb_capture"))
        c.execute(sa.text("DROP DATABASE IF EXISTS kafka_test"))
    engine.dispose()
