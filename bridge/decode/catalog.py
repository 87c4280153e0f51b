"""Read column types from the source database's catalog into :class:`ColumnTypes`.

The capture stage calls :func:`read_column_types` once at start, with a connection
to the database Debezium reads, for the tables it captures. The SQL type names of
``information_schema.columns`` are mapped to a :class:`ColumnKind` per dialect by
:func:`postgres_column_type` and :func:`mysql_column_type`; PostgreSQL tables also
get their ``REPLICA IDENTITY`` and its columns, which say what a delete's
before-image holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bridge.decode.columns import (
    ColumnKind,
    ColumnType,
    ColumnTypes,
    ReplicaIdentity,
    TableTypes,
    table_names,
)
from bridge.errors import ConfigError, RetryableError

log = logging.getLogger(__name__)


class CatalogColumn(NamedTuple):
    """One row of ``information_schema.columns``, the parts that matter here."""

    table: str
    column: str
    data_type: str
    column_type: str
    numeric_precision: int | None
    numeric_scale: int | None
    datetime_precision: int | None
    character_length: int | None


_PG_COLUMNS = text(
    """
    SELECT table_schema || '.' || table_name, column_name, data_type, udt_name,
           numeric_precision, numeric_scale, datetime_precision,
           character_maximum_length
      FROM information_schema.columns
     WHERE table_schema || '.' || table_name IN :names
     ORDER BY table_schema, table_name, ordinal_position
    """
).bindparams(bindparam("names", expanding=True))

_PG_IDENTITY = text(
    """
    SELECT n.nspname || '.' || c.relname, c.relreplident::text,
           ARRAY(SELECT a.attname::text
                   FROM pg_index i
                   JOIN pg_attribute a
                     ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                  WHERE i.indrelid = c.oid
                    AND ((c.relreplident = 'd' AND i.indisprimary)
                      OR (c.relreplident = 'i' AND i.indisreplident))
                  ORDER BY a.attnum)
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname || '.' || c.relname IN :names
    """
).bindparams(bindparam("names", expanding=True))

_MYSQL_COLUMNS = text(
    """
    SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
           NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION,
           CHARACTER_MAXIMUM_LENGTH
      FROM information_schema.COLUMNS
     WHERE CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) IN :names
     ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
    """
).bindparams(bindparam("names", expanding=True))

_IDENTITY_CODES = {
    "d": ReplicaIdentity.DEFAULT,
    "f": ReplicaIdentity.FULL,
    "i": ReplicaIdentity.INDEX,
    "n": ReplicaIdentity.NOTHING,
}


def read_column_types(connection: Connection, tables: Iterable[str]) -> ColumnTypes:
    """Column types of ``tables`` (``schema.table``) from the connected database.

    Raises :class:`ConfigError` naming every table that does not exist (or that the
    account cannot see), :class:`RetryableError` when the database is unreachable.
    """
    names = [f"{schema}.{table}" for schema, table in table_names(tables)]
    dialect = connection.dialect.name
    reader = _READERS.get(dialect)
    if reader is None:
        raise ConfigError(
            f"column types: dialect {dialect!r} is not a source creditbridge reads; "
            "use PostgreSQL or MySQL. Nothing was started."
        )
    try:
        types = reader(connection, names)
    except OperationalError as exc:
        raise RetryableError(
            f"column types: {dialect} catalog unreachable ({exc.orig}); retrying"
        ) from exc
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"column types: cannot read the {dialect} catalog ({exc}). "
            "Nothing was started."
        ) from exc

    _check_found(dialect, names, types)
    log.info("column types read for %s tables from %s", len(types.tables), dialect)
    return types


def _check_found(dialect: str, names: list[str], types: ColumnTypes) -> None:
    missing = [name for name in names if name not in types.tables]
    if missing:
        raise ConfigError(
            f"column types: {dialect} has no table {', '.join(missing)} visible to "
            "this account; check the connector's table list and grants. "
            "Nothing was started."
        )


def _read_postgres(connection: Connection, names: list[str]) -> ColumnTypes:
    columns = _group(
        (
            CatalogColumn(*row)
            for row in connection.execute(_PG_COLUMNS, {"names": names})
        ),
        postgres_column_type,
    )
    identities = {
        table: (_IDENTITY_CODES[code], tuple(identity))
        for table, code, identity in connection.execute(_PG_IDENTITY, {"names": names})
    }
    return ColumnTypes(
        {
            table: TableTypes(cols, *identities.get(table, (None, ())))
            for table, cols in columns.items()
        }
    )


def _read_mysql(connection: Connection, names: list[str]) -> ColumnTypes:
    columns = _group(
        (
            CatalogColumn(*row)
            for row in connection.execute(_MYSQL_COLUMNS, {"names": names})
        ),
        mysql_column_type,
    )
    return ColumnTypes({table: TableTypes(cols) for table, cols in columns.items()})


def _group(
    rows: Iterable[CatalogColumn], mapper: Callable[[CatalogColumn], ColumnType]
) -> dict[str, dict[str, ColumnType]]:
    tables: dict[str, dict[str, ColumnType]] = {}
    for row in rows:
        tables.setdefault(row.table, {})[row.column] = mapper(row)
    return tables


_READERS: dict[str, Callable[[Connection, list[str]], ColumnTypes]] = {
    "postgresql": _read_postgres,
    "mysql": _read_mysql,
    "mariadb": _read_mysql,
}


# --- SQL type names -> kinds ------------------------------------------------------

_PG_KINDS = {
    "smallint": ColumnKind.INTEGER,
    "integer": ColumnKind.INTEGER,
    "bigint": ColumnKind.INTEGER,
    "oid": ColumnKind.INTEGER,
    "numeric": ColumnKind.DECIMAL,
    "money": ColumnKind.DECIMAL,
    "real": ColumnKind.FLOAT,
    "double precision": ColumnKind.FLOAT,
    "boolean": ColumnKind.BOOLEAN,
    "character varying": ColumnKind.TEXT,
    "character": ColumnKind.TEXT,
    "text": ColumnKind.TEXT,
    "json": ColumnKind.JSON,
    "jsonb": ColumnKind.JSON,
    "uuid": ColumnKind.UUID,
    "bytea": ColumnKind.BINARY,
    "bit varying": ColumnKind.BITS,
    "date": ColumnKind.DATE,
    "time without time zone": ColumnKind.TIME,
    "time with time zone": ColumnKind.TIME_TZ,
    "timestamp without time zone": ColumnKind.TIMESTAMP,
    "timestamp with time zone": ColumnKind.TIMESTAMP_TZ,
    "interval": ColumnKind.INTERVAL,
}


def postgres_column_type(column: CatalogColumn) -> ColumnType:
    """PostgreSQL ``data_type`` (with ``udt_name`` as ``column_type``) -> kind."""
    data_type = column.data_type.lower()
    kind = _PG_KINDS.get(data_type, ColumnKind.OTHER)
    if data_type == "bit":
        kind = ColumnKind.BOOLEAN if column.character_length == 1 else ColumnKind.BITS
    return _typed(kind, column, money_scale=2 if data_type == "money" else None)


_MYSQL_KINDS = {
    "tinyint": ColumnKind.INTEGER,
    "smallint": ColumnKind.INTEGER,
    "mediumint": ColumnKind.INTEGER,
    "int": ColumnKind.INTEGER,
    "integer": ColumnKind.INTEGER,
    "bigint": ColumnKind.INTEGER,
    "decimal": ColumnKind.DECIMAL,
    "numeric": ColumnKind.DECIMAL,
    "float": ColumnKind.FLOAT,
    "double": ColumnKind.FLOAT,
    "real": ColumnKind.FLOAT,
    "char": ColumnKind.TEXT,
    "varchar": ColumnKind.TEXT,
    "tinytext": ColumnKind.TEXT,
    "text": ColumnKind.TEXT,
    "mediumtext": ColumnKind.TEXT,
    "longtext": ColumnKind.TEXT,
    "binary": ColumnKind.BINARY,
    "varbinary": ColumnKind.BINARY,
    "tinyblob": ColumnKind.BINARY,
    "blob": ColumnKind.BINARY,
    "mediumblob": ColumnKind.BINARY,
    "longblob": ColumnKind.BINARY,
    "json": ColumnKind.JSON,
    "enum": ColumnKind.ENUM,
    "set": ColumnKind.SET,
    "date": ColumnKind.DATE,
    "time": ColumnKind.TIME,
    "datetime": ColumnKind.TIMESTAMP,
    "timestamp": ColumnKind.TIMESTAMP_TZ,
    "year": ColumnKind.YEAR,
}


def mysql_column_type(column: CatalogColumn) -> ColumnType:
    """MySQL ``DATA_TYPE`` and ``COLUMN_TYPE`` -> kind.

    ``TINYINT(1)`` stays an integer: Debezium sends it as a number, and whether it
    means a boolean is the mapping's decision. ``TIMESTAMP`` is an instant (Debezium
    sends it in UTC); ``DATETIME`` is wall-clock digits.
    """
    data_type = column.data_type.lower()
    column_type = column.column_type.lower()
    kind = _MYSQL_KINDS.get(data_type, ColumnKind.OTHER)
    if data_type == "bigint" and "unsigned" in column_type:
        kind = ColumnKind.UNSIGNED_BIGINT
    if data_type == "bit":
        kind = ColumnKind.BOOLEAN if column_type == "bit(1)" else ColumnKind.BITS
    return _typed(kind, column)


_TEMPORAL = frozenset(
    {ColumnKind.TIME, ColumnKind.TIME_TZ, ColumnKind.TIMESTAMP, ColumnKind.TIMESTAMP_TZ}
)


def _typed(
    kind: ColumnKind, column: CatalogColumn, money_scale: Any = None
) -> ColumnType:
    if kind in _TEMPORAL:
        return ColumnType(
            kind, precision=column.datetime_precision, sql_type=column.column_type
        )
    if kind is ColumnKind.DECIMAL:
        return ColumnType(
            kind,
            precision=column.numeric_precision,
            scale=column.numeric_scale if money_scale is None else money_scale,
            sql_type=column.column_type,
        )
    return ColumnType(kind, sql_type=column.column_type)
