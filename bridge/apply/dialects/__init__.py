"""Target dialects: everything that differs between PostgreSQL and MySQL targets.

Each dialect module defines one :class:`TargetDialect` and registers it under the
SQLAlchemy dialect name, so the rest of the apply stage asks :func:`dialect_for` and
never compares dialect names itself.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from bridge.apply.errors import ErrorKind
from bridge.apply.policy import ConflictPolicy
from bridge.errors import ConfigError

_REGISTRY: dict[str, TargetDialect] = {}


class TargetDialect(abc.ABC):
    """How one database family is written to."""

    name: str

    @abc.abstractmethod
    def configure_engine(self, engine: Engine) -> None:
        """Fix every new session: UTC time zone, strict modes, character set."""

    @abc.abstractmethod
    def create_namespace(self, connection: Connection, namespace: str) -> None:
        """Create the schema (PostgreSQL) or database (MySQL) *namespace*."""

    @abc.abstractmethod
    def upsert(
        self,
        table: sa.Table,
        key_columns: Sequence[str],
        columns: Sequence[str],
        policy: ConflictPolicy,
    ) -> Insert:
        """An insert of *columns* that updates the row with the same key instead."""

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
        """Upsert *rows*, each holding exactly *columns*, in few round trips."""
        connection.execute(self.upsert(table, key_columns, columns, policy), rows)

    @abc.abstractmethod
    def classify(self, exc: DBAPIError) -> tuple[ErrorKind, str | None]:
        """Whether retrying can help, and the database's error code."""

    def classify_chain(
        self, exc: DBAPIError
    ) -> tuple[ErrorKind, str | None, DBAPIError]:
        """Like :meth:`classify`, but a retryable error anywhere in the chain wins.

        When a server rolls back the whole transaction (MySQL on deadlock), the
        savepoint rollback that follows fails too; the error that reaches the caller
        is then the savepoint's, and the deadlock is only its context.
        """
        first = self.classify(exc)
        seen: BaseException | None = exc
        while seen is not None:
            if isinstance(seen, DBAPIError):
                kind, code = self.classify(seen)
                if kind is ErrorKind.RETRYABLE:
                    return kind, code, seen
            seen = seen.__cause__ or seen.__context__
        return first[0], first[1], exc

    def checks_unique_collisions(self) -> bool:
        """Whether upserts must look for rows sharing another unique key first.

        Only needed where the upsert statement would otherwise update such a row.
        """
        return False

    def bind_value(self, value: Any) -> Any:
        """Turn a mapped Python value into what the driver writes correctly."""
        return value

    def bind_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {name: self.bind_value(value) for name, value in row.items()}


def register(dialect: TargetDialect) -> TargetDialect:
    _REGISTRY[dialect.name] = dialect
    return dialect


def dialect_for(name: str) -> TargetDialect:
    """The registered target dialect for SQLAlchemy dialect *name*."""
    # Importing the modules registers them; done here to keep import time light.
    from bridge.apply.dialects import mysql, postgresql  # noqa: F401

    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"target dialect {name!r} is not supported by the apply stage "
            f"(known: {', '.join(sorted(_REGISTRY))}); nothing was written"
        ) from None
