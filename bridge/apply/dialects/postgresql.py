"""PostgreSQL targets, written through psycopg 3."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from bridge.apply.dialects import TargetDialect, register
from bridge.apply.errors import ErrorKind
from bridge.apply.policy import ConflictKind, ConflictPolicy

log = logging.getLogger(__name__)

# SQLSTATE classes and codes after which the same batch can succeed later:
# 08 connection exception, 40001 serialization failure, 40P01 deadlock,
# 55P03 lock not available, 57P01-57P03 shutdown / crash / cannot connect now.
RETRYABLE_CLASSES = ("08",)
RETRYABLE_STATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})

# 22 data exception (value too long, bad encoding, bad datetime ...),
# 23 integrity constraint violation (unique, check, not null, foreign key).
ROW_CLASSES = ("22", "23")


class PostgresTarget(TargetDialect):
    name = "postgresql"

    def __init__(self) -> None:
        self._unnest_cache: dict[tuple[Any, ...], str] = {}

    def configure_engine(self, engine: Engine) -> None:
        event.listen(engine, "connect", _set_session)

    def create_namespace(self, connection: Connection, namespace: str) -> None:
        quoted = connection.dialect.identifier_preparer.quote_identifier(namespace)
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))

    def upsert(
        self,
        table: sa.Table,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> Insert:
        return self._on_conflict(
            postgresql.insert(table), table, key_columns, columns, policy
        )

    def write_upserts(
        self,
        connection: Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> None:
        arrays = _column_arrays(table, columns, rows)
        if arrays is None:
            super().write_upserts(
                connection,
                table,
                rows,
                key_columns=key_columns,
                columns=columns,
                policy=policy,
            )
            return
        sql = self._unnest_sql(
            connection.dialect,
            table,
            arrays,
            key_columns=key_columns,
            columns=columns,
            policy=policy,
        )
        params = {f"a_{index}": values for index, (_, values) in enumerate(arrays)}
        connection.exec_driver_sql(sql, params)

    def _unnest_sql(
        self,
        dialect: sa.Dialect,
        table: sa.Table,
        arrays: list[tuple[Any, list[Any]]],
        *,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> str:
        """``INSERT .. SELECT FROM unnest(arrays) ON CONFLICT ..``, compiled once."""
        cache_key = (table, tuple(key_columns), tuple(columns), policy)
        cached = self._unnest_cache.get(cache_key)
        if cached is not None:
            return cached
        source = sa.func.unnest(
            *(
                sa.cast(sa.bindparam(f"a_{index}", type_=array_type), array_type)
                for index, (array_type, _) in enumerate(arrays)
            )
        )
        derived = source.table_valued(*columns).render_derived(name="batch")
        select = sa.select(*(derived.c[name] for name in columns))
        statement = postgresql.insert(table).from_select(list(columns), select)
        statement = self._on_conflict(statement, table, key_columns, columns, policy)
        sql = str(statement.compile(dialect=dialect))
        # Arrays travel in psycopg's binary format: several times faster to dump
        # than the text form, and the statement is the same for every batch.
        for index in range(len(arrays)):
            sql = sql.replace(f"%(a_{index})s", f"%(a_{index})b")
        self._unnest_cache[cache_key] = sql
        return sql

    def _on_conflict(
        self,
        statement: postgresql.Insert,
        table: sa.Table,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> postgresql.Insert:
        if policy.kind in (ConflictKind.TARGET_WINS, ConflictKind.PARK):
            return statement.on_conflict_do_nothing(index_elements=list(key_columns))

        updated = [name for name in columns if name not in key_columns]
        if not updated:
            return statement.on_conflict_do_nothing(index_elements=list(key_columns))

        guard = None
        if policy.versioned and policy.column is not None:
            stored = table.c[policy.column]
            guard = sa.or_(
                stored.is_(None), statement.excluded[policy.column] >= stored
            )
        return statement.on_conflict_do_update(
            index_elements=list(key_columns),
            set_={name: statement.excluded[name] for name in updated},
            where=guard,
        )

    def bind_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        # psycopg writes every mapped Python value correctly as it is.
        return row if isinstance(row, dict) else dict(row)

    def classify(self, exc: DBAPIError) -> tuple[ErrorKind, str | None]:
        state: str | None = getattr(exc.orig, "sqlstate", None)
        if exc.connection_invalidated or state is None:
            # No SQLSTATE means the client lost or never got a connection.
            return ErrorKind.RETRYABLE, state
        if state in RETRYABLE_STATES or state.startswith(RETRYABLE_CLASSES):
            return ErrorKind.RETRYABLE, state
        if state.startswith(ROW_CLASSES):
            return ErrorKind.ROW, state
        return ErrorKind.FATAL, state


# Array element types for the one-statement batch: the column's type without length
# or precision, so that the assignment to the column (not an explicit cast, which would
# silently truncate a varchar) checks every value exactly as a plain INSERT does; and
# the one Python type psycopg must see in every element.
_ELEMENTS: tuple[tuple[type[Any], Callable[[Any], Any], tuple[type, ...]], ...] = (
    (sa.Boolean, lambda _: sa.Boolean(), (bool,)),
    (sa.Integer, lambda t: t, (int,)),
    (sa.Float, lambda _: postgresql.DOUBLE_PRECISION(), (float,)),
    (sa.Numeric, lambda _: sa.Numeric(), (Decimal,)),
    (sa.Enum, lambda _: None, ()),
    (sa.String, lambda _: sa.Text(), (str,)),
    (sa.DateTime, lambda t: sa.DateTime(timezone=t.timezone), (datetime,)),
    (sa.Date, lambda _: sa.Date(), (date,)),
    (sa.Time, lambda t: sa.Time(timezone=t.timezone), (time,)),
    (sa.LargeBinary, lambda _: postgresql.BYTEA(), (bytes,)),
    (sa.Uuid, lambda _: postgresql.UUID(as_uuid=True), (UUID,)),
    (postgresql.INTERVAL, lambda _: postgresql.INTERVAL(), (timedelta,)),
)

_WIDENED: dict[type, Callable[[Any], Any]] = {Decimal: Decimal, float: float}


def _column_arrays(
    table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, list[Any]]] | None:
    """One typed array per column, or ``None`` when a plain executemany is safer."""
    arrays = []
    for name in columns:
        found = _element(table.c[name].type)
        if found is None:
            return None
        element_type, accepted = found
        values = [row[name] for row in rows]
        if accepted[0] in _WIDENED:
            values = [_widen(value, accepted[0]) for value in values]
        if not _uniform(values, accepted[0]):
            return None
        arrays.append((postgresql.ARRAY(element_type), values))
    return arrays


def _element(column_type: Any) -> tuple[Any, tuple[type, ...]] | None:
    for kind, element, accepted in _ELEMENTS:
        if isinstance(column_type, kind):
            element_type = element(column_type)
            return None if element_type is None else (element_type, accepted)
    return None


def _widen(value: Any, wanted: type) -> Any:
    # An int in a numeric or float column is exact in the wider type.
    if type(value) is int and wanted in _WIDENED:
        return _WIDENED[wanted](value)
    return value


def _uniform(values: list[Any], wanted: type) -> bool:
    kinds = {type(value) for value in values if value is not None}
    if not kinds <= {wanted}:
        return False
    if wanted is datetime:
        # psycopg types a list by its elements: naive and aware must not mix.
        return len({v.tzinfo is None for v in values if v is not None}) <= 1
    return True


def _set_session(dbapi_connection: Any, _record: Any) -> None:
    # Timestamps without time zone are read and written as UTC wall clock, whatever
    # the server's or the bridge's own time zone.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.autocommit = autocommit


register(PostgresTarget())
