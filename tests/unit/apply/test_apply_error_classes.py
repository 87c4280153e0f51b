"""Driver errors sorted into retry, dead letter or stop (codes from the server docs)."""

from __future__ import annotations

import psycopg
import pymysql
import pytest
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError

from bridge.apply.dialects import dialect_for
from bridge.apply.errors import ErrorKind, driver_message

RETRY, ROW, FATAL = ErrorKind.RETRYABLE, ErrorKind.ROW, ErrorKind.FATAL


def wrapped(original: Exception) -> DBAPIError:
    return DBAPIError.instance("INSERT ..", {}, original, type(original))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1213, RETRY), (1205, RETRY), (2013, RETRY), (2006, RETRY), (2003, RETRY),
        (1053, RETRY), (4031, RETRY), (1927, RETRY),
        (1406, ROW), (1366, ROW), (1062, ROW), (3819, ROW), (1048, ROW), (1292, ROW),
        (1142, FATAL), (1146, FATAL), (1054, FATAL),
    ],
)  # fmt: skip
def test_mysql_error_numbers(code: int, kind: ErrorKind) -> None:
    error = wrapped(pymysql.err.OperationalError(code, "server text"))

    assert dialect_for("mysql").classify(error) == (kind, str(code))


@pytest.mark.parametrize(
    ("error_class", "kind"),
    [
        (pg_errors.DeadlockDetected, RETRY), (pg_errors.SerializationFailure, RETRY),
        (pg_errors.AdminShutdown, RETRY), (pg_errors.CannotConnectNow, RETRY),
        (pg_errors.LockNotAvailable, RETRY), (pg_errors.ConnectionFailure, RETRY),
        (pg_errors.StringDataRightTruncation, ROW), (pg_errors.UniqueViolation, ROW),
        (pg_errors.CheckViolation, ROW), (pg_errors.NotNullViolation, ROW),
        (pg_errors.CharacterNotInRepertoire, ROW),
        (pg_errors.InsufficientPrivilege, FATAL), (pg_errors.UndefinedTable, FATAL),
    ],
)  # fmt: skip
def test_postgresql_sqlstates(
    error_class: type[psycopg.Error], kind: ErrorKind
) -> None:
    error = wrapped(error_class("server text"))

    assert dialect_for("postgresql").classify(error) == (kind, error_class.sqlstate)


def test_postgresql_error_without_sqlstate_is_a_lost_connection() -> None:
    error = wrapped(psycopg.OperationalError("connection refused"))

    assert dialect_for("postgresql").classify(error) == (RETRY, None)


def test_driver_message_keeps_the_server_text_only() -> None:
    error = wrapped(
        pymysql.err.DataError(1406, "Data too long for column 'code' at row 1")
    )

    assert (
        driver_message(error) == "(1406, \"Data too long for column 'code' at row 1\")"
    )
