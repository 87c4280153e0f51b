"""Real PostgreSQL and MySQL targets for the apply-stage tests.

Test tables live in a scratch namespace ``cb_apply_test`` (schema on PostgreSQL,
database on MySQL) that is dropped at the end; bridge-table rows are keyed by a
pipeline name unique to each test and deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bridge.apply import install_bridge_tables, make_engine
from bridge.apply.schema import checkpoint, conflict, dead_letter, kafka_offset

SCRATCH = "cb_apply_test"


@pytest.fixture(scope="session")
def dev_env():  # type: ignore[no-untyped-def]
    from bridge.devenv.api import ensure_up

    return ensure_up()


@pytest.fixture(scope="session", params=["postgresql", "mysql"])
def engine(request: pytest.FixtureRequest, dev_env) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    server = dev_env.postgres if request.param == "postgresql" else dev_env.mysql
    target = make_engine(server.url("admin"))
    with target.begin() as connection:
        install_bridge_tables(connection, target.dialect.name)
        _drop_scratch(connection)
        quoted = target.dialect.identifier_preparer.quote_identifier(SCRATCH)
        kind = "SCHEMA" if target.dialect.name == "postgresql" else "DATABASE"
        connection.execute(sa.text(f"CREATE {kind} {quoted}"))
    yield target
    with target.begin() as connection:
        _drop_scratch(connection)
    target.dispose()


def _drop_scratch(connection: sa.Connection) -> None:
    quoted = connection.dialect.identifier_preparer.quote_identifier(SCRATCH)
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {quoted} CASCADE"))
    else:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}"))


@pytest.fixture
def pipeline(engine: Engine) -> Iterator[str]:
    name = f"test-apply-{uuid.uuid4().hex[:12]}"
    yield name
    with engine.begin() as connection:
        for table in (checkpoint, kafka_offset, dead_letter, conflict):
            connection.execute(table.delete().where(table.c.pipeline == name))


@pytest.fixture
def make_table(engine: Engine) -> Iterator[object]:
    """Create ``cb_apply_test.<name>`` from column DDL; returns the qualified name."""
    created: list[str] = []

    def create(name: str, columns: str, options: str = "") -> str:
        qualified = f"{SCRATCH}.{name}"
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {qualified}"))
            connection.execute(
                sa.text(f"CREATE TABLE {qualified} ({columns}) {options}")
            )
        created.append(qualified)
        return qualified

    yield create
    with engine.begin() as connection:
        for qualified in created:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {qualified}"))
