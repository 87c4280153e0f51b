"""MySQL targets, written through PyMySQL.

``INSERT .. ON DUPLICATE KEY UPDATE`` fires on *any* unique index, so every assignment
is guarded by a comparison of the target key columns: a row that collides on another
unique key is never rewritten. Such a collision is found before the write (see
:meth:`MySqlTarget.checks_unique_collisions`) and dead-lettered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pymysql.cursors import RE_INSERT_VALUES, Cursor
from sqlalchemy import event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from bridge.apply.dialects import TargetDialect, register
from bridge.apply.dialects.mysql_literal import BatchTemplate, literal_renderer
from bridge.apply.errors import ErrorKind
from bridge.apply.policy import ConflictKind, ConflictPolicy

log = logging.getLogger(__name__)

SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)

# Server gone, restarting, shutting down, busy: the same batch can succeed later.
RETRYABLE_CODES = frozenset(
    {
        0,  # PyMySQL's code when the socket closed under it
        1040,  # too many connections
        1053,  # server shutdown in progress
        1077,  # normal shutdown
        1079,  # shutdown complete
        1080,  # forcing close of thread
        1152,  # aborted connection
        1158, 1159, 1160, 1161,  # network read/write errors and timeouts
        1205,  # lock wait timeout exceeded
        1213,  # deadlock found
        1927,  # connection was killed
        2002, 2003, 2006, 2013, 2055,  # cannot connect, server gone, lost connection
        3032,  # server in offline mode
        4031,  # disconnected by the server for inactivity
    }
)  # fmt: skip

# The row's own data is refused: too long, bad string, out of range, null, duplicate,
# foreign key, check constraint, bad datetime, invalid JSON.
ROW_CODES = frozenset(
    {1048, 1062, 1263, 1264, 1265, 1292, 1300, 1366, 1367, 1406, 1411, 1451, 1452,
     1690, 3140, 3819, 4025}
)  # fmt: skip


# The statements carry their values as text: PyMySQL must not %-format them.
_NO_PARAMETERS = {"no_parameters": True}

_VALUE_MARK = re.compile(r"%\(cb_value_(\d+)\)s")


class MySqlTarget(TargetDialect):
    name = "mysql"

    max_statement_bytes = Cursor.max_stmt_length
    """Upper bound of one batch statement, the one PyMySQL's ``executemany`` keeps."""

    def __init__(self) -> None:
        self._templates: dict[tuple[Any, ...], BatchTemplate | None] = {}

    def configure_engine(self, engine: Engine) -> None:
        event.listen(engine, "connect", _set_session)

    def create_namespace(self, connection: Connection, namespace: str) -> None:
        quoted = connection.dialect.identifier_preparer.quote_identifier(namespace)
        connection.execute(
            sa.text(
                f"CREATE DATABASE IF NOT EXISTS {quoted} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci"
            )
        )

    def upsert(
        self,
        table: sa.Table,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> Insert:
        statement = mysql.insert(table)
        new = statement.inserted
        same_key = sa.and_(*(table.c[name] == new[name] for name in key_columns))
        if policy.kind in (ConflictKind.TARGET_WINS, ConflictKind.PARK):
            first_key = key_columns[0]
            return statement.on_duplicate_key_update([(first_key, table.c[first_key])])

        guard: sa.ColumnElement[bool] = same_key
        if policy.versioned and policy.column is not None:
            stored = table.c[policy.column]
            guard = sa.and_(
                same_key, sa.or_(stored.is_(None), new[policy.column] >= stored)
            )

        # Assignments run left to right and later ones see earlier results, so the
        # version column, which the guard reads, is assigned last.
        updated = [name for name in columns if name not in key_columns]
        updated.sort(key=lambda name: name == policy.column)
        if not updated:
            first_key = key_columns[0]
            return statement.on_duplicate_key_update([(first_key, table.c[first_key])])
        return statement.on_duplicate_key_update(
            [(name, sa.func.if_(guard, new[name], table.c[name])) for name in updated]
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
        template = self._template(connection, table, key_columns, columns, policy)
        if template is None:
            super().write_upserts(
                connection,
                table,
                rows,
                key_columns=key_columns,
                columns=columns,
                policy=policy,
            )
            return

        driver: Any = connection.connection.dbapi_connection
        render = literal_renderer(driver.escape, self.bind_value)
        texts = template.row_texts(rows, render, self.bind_value)
        for sql in template.statements(
            texts, self.max_statement_bytes, driver.encoding
        ):
            _execute(connection, sql, template)

    def _template(
        self,
        connection: Connection,
        table: sa.Table,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> BatchTemplate | None:
        """The batch form of :meth:`upsert`, or ``None`` to keep ``executemany``."""
        dialect = connection.dialect
        cache_key = (dialect, table, tuple(key_columns), tuple(columns), policy)
        if cache_key in self._templates:
            return self._templates[cache_key]

        template = None
        if dialect.driver == "pymysql":
            upsert = self.upsert(table, key_columns, columns, policy)
            template = _batch_template(dialect, table, upsert, columns)
        if template is None:
            log.warning(
                "upserts into %s stay on executemany: driver %s or statement form "
                "not understood by the batch writer",
                table.fullname,
                dialect.driver,
            )
        self._templates[cache_key] = template
        return template

    def classify(self, exc: DBAPIError) -> tuple[ErrorKind, str | None]:
        args = getattr(exc.orig, "args", ())
        code = args[0] if args and isinstance(args[0], int) else None
        text = None if code is None else str(code)
        if exc.connection_invalidated or code is None or code in RETRYABLE_CODES:
            return ErrorKind.RETRYABLE, text
        if code in ROW_CODES:
            return ErrorKind.ROW, text
        return ErrorKind.FATAL, text

    def checks_unique_collisions(self) -> bool:
        return True

    def bind_value(self, value: Any) -> Any:
        # PyMySQL formats a datetime's wall clock and drops its tzinfo; the session
        # runs in UTC, so aware values are converted to naive UTC first.
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, UUID):
            return str(value)
        return value


def _batch_template(
    dialect: sa.Dialect, table: sa.Table, upsert: Insert, columns: Sequence[str]
) -> BatchTemplate | None:
    # Compiled by SQLAlchemy and split by PyMySQL's own pattern, as executemany split
    # it: the batch statement is the same statement, only with the values written in.
    marked = upsert.values(
        {
            name: sa.bindparam(f"cb_value_{index}", type_=table.c[name].type)
            for index, name in enumerate(columns)
        }
    )
    sql = marked.compile(dialect=dialect).string
    split = RE_INSERT_VALUES.match(sql)
    if split is None:
        return None

    order = [columns[int(index)] for index in _VALUE_MARK.findall(split.group(2))]
    if sorted(order) != sorted(columns):
        return None
    processors = tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in order
    )
    # Percent signs in identifiers are doubled for the driver's %-formatting, which
    # a statement sent without parameters does not undergo.
    prefix = split.group(1) % ()
    suffix = (split.group(3) or "") % ()
    return BatchTemplate(prefix, suffix, tuple(order), processors)


def _execute(connection: Connection, sql: str, template: BatchTemplate) -> None:
    try:
        connection.exec_driver_sql(sql, execution_options=_NO_PARAMETERS)
    except DBAPIError as exc:
        # The statement holds every value of the batch; tracebacks and logs get its
        # shape instead (the driver's message still names the row).
        exc.statement = f"{template.prefix}(..)..{template.suffix}"
        raise


def _set_session(dbapi_connection: Any, _record: Any) -> None:
    # Strict mode turns truncation and '?' substitution into errors (dead letters),
    # and a UTC session makes TIMESTAMP columns independent of every time zone.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET SESSION sql_mode = '{SQL_MODE}', time_zone = '+00:00'")
        cursor.execute("SET NAMES utf8mb4")


register(MySqlTarget())
