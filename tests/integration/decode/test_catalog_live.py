"""read_column_types against the live dev PostgreSQL and MySQL servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bridge.decode import (
    ColumnKind,
    ColumnType,
    ColumnTypes,
    ReplicaIdentity,
    read_column_types,
)
from bridge.errors import ConfigError

pytestmark = pytest.mark.db

K = ColumnKind
SCRATCH = f"cb_decode_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def dev_env():  # type: ignore[no-untyped-def]
    api = pytest.importorskip("bridge.devenv.api", reason="bridge.devenv not built yet")
    return api.ensure_up()


@pytest.fixture(scope="module")
def postgres(dev_env) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(dev_env.postgres.url("admin"))
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {SCRATCH}"))
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.outcome (id int PRIMARY KEY, code varchar(5),"
                " amount numeric(24,6), ratio numeric, decided date, at timestamptz(6),"
                " wall timestamp(3), span interval, doc jsonb, raw bytea, flag boolean,"
                " ref uuid)"
            )
        )
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.full_row (a int, b int, PRIMARY KEY (a, b))"
            )
        )
        connection.execute(
            sa.text(f"ALTER TABLE {SCRATCH}.full_row REPLICA IDENTITY FULL")
        )
    yield engine
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {SCRATCH} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module")
def mysql(dev_env) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(dev_env.mysql.url("admin"))
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {SCRATCH}"))
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.repair (id int PRIMARY KEY, flag tinyint(1),"
                " fen bigint unsigned, amount decimal(10,2), d date, dt datetime,"
                " dt6 datetime(6), ts timestamp(6) NULL, t time(3), doc json,"
                " kind enum('A','B'), tags set('x','y'), raw varbinary(8), y year)"
            )
        )
    yield engine
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP DATABASE {SCRATCH}"))
    engine.dispose()


def test_postgres_catalog(postgres: Engine) -> None:
    with postgres.connect() as connection:
        types = read_column_types(
            connection, [f"{SCRATCH}.outcome", f"{SCRATCH}.full_row"]
        )

    outcome = types.tables[f"{SCRATCH}.outcome"]
    assert {
        name: (t.kind, t.precision, t.scale) for name, t in outcome.columns.items()
    } == {
        "id": (K.INTEGER, None, None),
        "code": (K.TEXT, None, None),
        "amount": (K.DECIMAL, 24, 6),
        "ratio": (K.DECIMAL, None, None),
        "decided": (K.DATE, None, None),
        "at": (K.TIMESTAMP_TZ, 6, None),
        "wall": (K.TIMESTAMP, 3, None),
        "span": (K.INTERVAL, None, None),
        "doc": (K.JSON, None, None),
        "raw": (K.BINARY, None, None),
        "flag": (K.BOOLEAN, None, None),
        "ref": (K.UUID, None, None),
    }
    assert (outcome.replica_identity, outcome.identity_columns) == (
        ReplicaIdentity.DEFAULT,
        ("id",),
    )
    full_row = types.tables[f"{SCRATCH}.full_row"]
    assert full_row.replica_identity is ReplicaIdentity.FULL
    assert full_row.identity_columns == ()


def test_mysql_catalog(mysql: Engine) -> None:
    with mysql.connect() as connection:
        types = read_column_types(connection, [f"{SCRATCH}.repair"])

    repair = types.tables[f"{SCRATCH}.repair"]
    assert {n: (t.kind, t.precision, t.scale) for n, t in repair.columns.items()} == {
        "id": (K.INTEGER, None, None),
        "flag": (K.INTEGER, None, None),
        "fen": (K.UNSIGNED_BIGINT, None, None),
        "amount": (K.DECIMAL, 10, 2),
        "d": (K.DATE, None, None),
        "dt": (K.TIMESTAMP, 0, None),
        "dt6": (K.TIMESTAMP, 6, None),
        "ts": (K.TIMESTAMP_TZ, 6, None),
        "t": (K.TIME, 3, None),
        "doc": (K.JSON, None, None),
        "kind": (K.ENUM, None, None),
        "tags": (K.SET, None, None),
        "raw": (K.BINARY, None, None),
        "y": (K.YEAR, None, None),
    }
    assert repair.columns["flag"] == ColumnType(K.INTEGER, sql_type="tinyint(1)")


def test_missing_tables_are_named(mysql: Engine) -> None:
    with mysql.connect() as connection, pytest.raises(ConfigError) as caught:
        read_column_types(connection, [f"{SCRATCH}.repair", f"{SCRATCH}.nope"])

    assert str(caught.value) == (
        f"column types: mysql has no table {SCRATCH}.nope visible to this account; "
        "check the connector's table list and grants. Nothing was started."
    )


def test_demo_tables_read_by_the_capture_account(dev_env) -> None:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(dev_env.postgres.url("capture"))
    try:
        with engine.connect() as connection:
            types = read_column_types(connection, ["xyzg.xyxf_jg"])
    finally:
        engine.dispose()

    table = types.tables["xyzg.xyxf_jg"]
    assert table.columns["xf_rq"].kind is K.DATE
    assert table.columns["xf_jdsj"] == ColumnType(
        K.TIMESTAMP_TZ, 6, None, "timestamptz"
    )
    assert table.columns["jdfk_bz"].kind is K.BOOLEAN
    assert table.replica_identity is ReplicaIdentity.FULL
    assert isinstance(types, ColumnTypes)
