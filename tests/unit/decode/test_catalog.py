"""SQL type names from information_schema -> column kinds, per dialect."""

from __future__ import annotations

import pytest

from bridge.decode import ColumnKind, ColumnType
from bridge.decode.catalog import CatalogColumn, mysql_column_type, postgres_column_type

K = ColumnKind


def column(
    data_type: str,
    column_type: str = "",
    *,
    precision: int | None = None,
    scale: int | None = None,
    fsp: int | None = None,
    length: int | None = None,
) -> CatalogColumn:
    return CatalogColumn(
        "s.t", "c", data_type, column_type or data_type, precision, scale, fsp, length
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (column("smallint", "int2"), ColumnType(K.INTEGER, sql_type="int2")),
        (column("integer", "int4"), ColumnType(K.INTEGER, sql_type="int4")),
        (column("bigint", "int8"), ColumnType(K.INTEGER, sql_type="int8")),
        (
            column("numeric", precision=24, scale=6),
            ColumnType(K.DECIMAL, 24, 6, "numeric"),
        ),
        (column("numeric"), ColumnType(K.DECIMAL, sql_type="numeric")),
        (column("money"), ColumnType(K.DECIMAL, scale=2, sql_type="money")),
        (column("real", "float4"), ColumnType(K.FLOAT, sql_type="float4")),
        (column("double precision", "float8"), ColumnType(K.FLOAT, sql_type="float8")),
        (column("boolean", "bool"), ColumnType(K.BOOLEAN, sql_type="bool")),
        (column("character", "bpchar"), ColumnType(K.TEXT, sql_type="bpchar")),
        (
            column("character varying", "varchar"),
            ColumnType(K.TEXT, sql_type="varchar"),
        ),
        (column("text"), ColumnType(K.TEXT, sql_type="text")),
        (column("json"), ColumnType(K.JSON, sql_type="json")),
        (column("jsonb"), ColumnType(K.JSON, sql_type="jsonb")),
        (column("uuid"), ColumnType(K.UUID, sql_type="uuid")),
        (column("bytea"), ColumnType(K.BINARY, sql_type="bytea")),
        (column("bit", length=1), ColumnType(K.BOOLEAN, sql_type="bit")),
        (column("bit", length=8), ColumnType(K.BITS, sql_type="bit")),
        (column("bit varying", "varbit"), ColumnType(K.BITS, sql_type="varbit")),
        (column("date", fsp=0), ColumnType(K.DATE, sql_type="date")),
        (
            column("time without time zone", "time", fsp=6),
            ColumnType(K.TIME, 6, None, "time"),
        ),
        (
            column("time with time zone", "timetz", fsp=6),
            ColumnType(K.TIME_TZ, 6, None, "timetz"),
        ),
        (
            column("timestamp without time zone", "timestamp", fsp=3),
            ColumnType(K.TIMESTAMP, 3, None, "timestamp"),
        ),
        (
            column("timestamp with time zone", "timestamptz", fsp=6),
            ColumnType(K.TIMESTAMP_TZ, 6, None, "timestamptz"),
        ),
        (column("interval"), ColumnType(K.INTERVAL, sql_type="interval")),
        (column("USER-DEFINED", "mood"), ColumnType(K.OTHER, sql_type="mood")),
        (column("ARRAY", "_text"), ColumnType(K.OTHER, sql_type="_text")),
    ],
    ids=lambda v: v.column_type if isinstance(v, CatalogColumn) else "",
)
def test_postgres_types(row: CatalogColumn, expected: ColumnType) -> None:
    assert postgres_column_type(row) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # C07: TINYINT(1) is a number; the mapping decides whether it is a boolean.
        (column("tinyint", "tinyint(1)"), ColumnType(K.INTEGER, sql_type="tinyint(1)")),
        (column("int", "int"), ColumnType(K.INTEGER, sql_type="int")),
        (column("int", "int unsigned"), ColumnType(K.INTEGER, sql_type="int unsigned")),
        (column("bigint", "bigint"), ColumnType(K.INTEGER, sql_type="bigint")),
        (
            column("bigint", "bigint unsigned"),
            ColumnType(K.UNSIGNED_BIGINT, sql_type="bigint unsigned"),
        ),
        (
            column("decimal", "decimal(10,2)", precision=10, scale=2),
            ColumnType(K.DECIMAL, 10, 2, "decimal(10,2)"),
        ),
        (column("double", "double"), ColumnType(K.FLOAT, sql_type="double")),
        (column("bit", "bit(1)"), ColumnType(K.BOOLEAN, sql_type="bit(1)")),
        (column("bit", "bit(12)"), ColumnType(K.BITS, sql_type="bit(12)")),
        (column("varchar", "varchar(40)"), ColumnType(K.TEXT, sql_type="varchar(40)")),
        (column("mediumtext"), ColumnType(K.TEXT, sql_type="mediumtext")),
        (
            column("varbinary", "varbinary(16)"),
            ColumnType(K.BINARY, sql_type="varbinary(16)"),
        ),
        (column("longblob"), ColumnType(K.BINARY, sql_type="longblob")),
        (column("json"), ColumnType(K.JSON, sql_type="json")),
        (column("enum", "enum('A','N')"), ColumnType(K.ENUM, sql_type="enum('A','N')")),
        (column("set", "set('a','b')"), ColumnType(K.SET, sql_type="set('a','b')")),
        (column("date"), ColumnType(K.DATE, sql_type="date")),
        (column("time", "time(6)", fsp=6), ColumnType(K.TIME, 6, None, "time(6)")),
        (column("datetime", fsp=0), ColumnType(K.TIMESTAMP, 0, None, "datetime")),
        (
            column("datetime", "datetime(6)", fsp=6),
            ColumnType(K.TIMESTAMP, 6, None, "datetime(6)"),
        ),
        # C03: TIMESTAMP is an instant, DATETIME wall-clock digits.
        (column("timestamp", fsp=0), ColumnType(K.TIMESTAMP_TZ, 0, None, "timestamp")),
        (column("year"), ColumnType(K.YEAR, sql_type="year")),
        (column("geometry"), ColumnType(K.OTHER, sql_type="geometry")),
    ],
    ids=lambda v: v.column_type if isinstance(v, CatalogColumn) else "",
)
def test_mysql_types(row: CatalogColumn, expected: ColumnType) -> None:
    assert mysql_column_type(row) == expected
