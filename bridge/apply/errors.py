"""Errors of the apply stage, and the one place driver exceptions become them.

The target dialect classifies a driver exception (SQLSTATE on PostgreSQL, error number
on MySQL) and the applier wraps it once: :class:`TargetUnavailableError` (retried,
never dead-lettered), :class:`RowRefusedError` (the row goes to the dead-letter table)
or :class:`TargetRefusedError` (the pipeline stops).
"""

from __future__ import annotations

import enum

from sqlalchemy.exc import DBAPIError

from bridge.errors import ApplyError, RetryableError


class ErrorKind(enum.Enum):
    RETRYABLE = "retryable"
    """The server is away or busy: retry the whole batch later."""
    ROW = "row"
    """This row's data is refused (too long, bad character, constraint): dead letter."""
    FATAL = "fatal"
    """Not about the row (rights, missing table): stop rather than dead-letter all."""


class TargetUnavailableError(RetryableError):
    """The target database cannot take the batch now; the whole batch is retried."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class RowRefusedError(ApplyError):
    """The target database refused one row; it goes to the dead-letter table."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TargetRefusedError(ApplyError):
    """The target refuses the batch for a reason no row can fix; the pipeline stops."""


class UniqueCollisionError(RowRefusedError):
    """An upsert would touch a different row that shares another unique key."""


def driver_message(exc: DBAPIError) -> str:
    """The database's own error text, without SQLAlchemy's statement dump."""
    original = exc.orig
    if original is None:
        return str(exc)
    args: tuple[object, ...] = tuple(getattr(original, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return f"({args[0]}, {args[1]!r})"
    return str(original).strip()
