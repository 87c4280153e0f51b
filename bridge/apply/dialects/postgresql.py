"""PostgreSQL targets, written through psycopg 3."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

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
        statement = postgresql.insert(table)
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


def _set_session(dbapi_connection: Any, _record: Any) -> None:
    # Timestamps without time zone are read and written as UTC wall clock, whatever
    # the server's or the bridge's own time zone.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.autocommit = autocommit


register(PostgresTarget())
