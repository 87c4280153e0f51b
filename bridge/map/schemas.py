"""Table shapes for ``check``: column kinds, lengths, scales, possible values, and
which columns an insert must give a value.

The live source reads PostgreSQL and MySQL through SQLAlchemy ``inspect``; tests pass
a :class:`StaticSchemas` instead (the project's own seam). Driver errors are
translated here, once, into ``ConfigError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import types as satypes
from sqlalchemy.engine.interfaces import ReflectedColumn

from bridge.errors import ConfigError, database_message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ColumnShape:
    """What ``check`` needs to know about one database column.

    ``kind`` is one of ``str``, ``int``, ``decimal``, ``date``, ``datetime``,
    ``bool`` or ``other``; ``values`` are the possible values when an enum or a
    check constraint lists them. ``filled`` means the database fills the column
    itself when an insert leaves it out: a server default, auto-increment, an
    identity or a generated column.
    """

    name: str
    type_text: str
    kind: str
    length: int | None = None
    scale: int | None = None
    values: tuple[Any, ...] | None = None
    nullable: bool = True
    filled: bool = False

    @property
    def needs_value(self) -> bool:
        """An insert that leaves this column out is refused by the database."""
        return not self.nullable and not self.filled


TableShape = Mapping[str, ColumnShape]


class SchemaSource(Protocol):
    def table(self, qualified: str) -> TableShape | None:
        """The columns of ``schema.table``, or ``None`` when it does not exist."""


class StaticSchemas:
    """Fixed table shapes, for tests and offline use."""

    def __init__(self, tables: Mapping[str, Iterable[ColumnShape]]) -> None:
        self._tables = {
            name: {c.name: c for c in cols} for name, cols in tables.items()
        }

    def table(self, qualified: str) -> TableShape | None:
        return self._tables.get(qualified)


class UnreachableDatabaseError(ConfigError):
    """A database refused the login or could not be reached at all.

    ``str()`` is the cause alone (``cannot connect to URL as USER: reason``); callers
    add what the user should check and what happens next.
    """

    def __init__(self, url: sa.URL, reason: str) -> None:
        self.url = url.render_as_string(hide_password=True)
        self.user = url.username or "(no user)"
        self.reason = reason
        super().__init__(f"cannot connect to {self.url} as {self.user}: {reason}")

    def advice(self, then: str, whose: str = "") -> str:
        """The cause, what to check and *then*, what happens next; *whose* follows
        "password" (`` of the writer URL``)."""
        return (
            f"{self}; check the URL and password{whose} and that the server is "
            f"running; {then}"
        )


def unreachable(url: sa.URL, exc: sa.exc.SQLAlchemyError) -> UnreachableDatabaseError:
    """The error for a failed connection attempt to *url*, driver text on one line."""
    text = database_message(exc)
    return UnreachableDatabaseError(url, " ".join(text.split()))


def connect_or_explain(engine: sa.Engine) -> sa.Connection:
    """A connection from *engine*, or an :class:`UnreachableDatabaseError`."""
    try:
        return engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        raise unreachable(engine.url, exc) from exc


def reach(engine: sa.Engine, *, then: str, whose: str = "") -> None:
    """Connect to *engine* once, or raise a :class:`ConfigError` with the advice of
    :meth:`UnreachableDatabaseError.advice`."""
    try:
        connect_or_explain(engine).close()
    except UnreachableDatabaseError as exc:
        raise ConfigError(exc.advice(then, whose)) from exc


class LiveSchemas:
    """Inspects live databases; the first engine that has a table answers for it."""

    def __init__(self, urls: Iterable[str]) -> None:
        self._engines = [sa.create_engine(url, pool_pre_ping=False) for url in urls]
        self._cache: dict[str, TableShape | None] = {}
        self._schemas: dict[int, set[str]] = {}
        self._failures: dict[int, UnreachableDatabaseError | None] = {}

    def unreachable(self) -> list[UnreachableDatabaseError]:
        """One error per database that cannot be connected to, in URL order."""
        found = [self._failure(index) for index in range(len(self._engines))]
        return [failure for failure in found if failure is not None]

    def _failure(self, index: int) -> UnreachableDatabaseError | None:
        if index not in self._failures:
            try:
                connect_or_explain(self._engines[index]).close()
                self._failures[index] = None
            except UnreachableDatabaseError as exc:
                self._failures[index] = exc
        return self._failures[index]

    def _reached(self, index: int) -> None:
        # A connection failure is its own message; it must not read as a missing
        # table or as a problem of whichever table happened to be asked for first.
        failure = self._failure(index)
        if failure is not None:
            raise failure

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()

    def table(self, qualified: str) -> TableShape | None:
        if qualified not in self._cache:
            self._cache[qualified] = self._inspect(qualified)
        return self._cache[qualified]

    def _inspect(self, qualified: str) -> TableShape | None:
        schema, table = qualified.split(".", 1)
        for index, engine in enumerate(self._engines):
            self._reached(index)
            try:
                inspector = sa.inspect(engine)
                if schema not in self._schema_names(index, inspector):
                    continue
                # A schema name can exist on both servers (``bridge`` does); the
                # table decides.
                if inspector.has_table(table, schema=schema):
                    return _shape(inspector, schema, table)
            except sa.exc.SQLAlchemyError as exc:
                raise ConfigError(
                    f"cannot inspect {qualified} on {engine.url.render_as_string()}: "
                    f"{exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}; "
                    "check the URL or run without live schemas (--offline)"
                ) from exc
        return None

    def url_for(self, qualified: str) -> str | None:
        """The URL of the database that holds table *qualified*, if any.

        Raises :class:`UnreachableDatabaseError` for a database it cannot connect to.
        """
        schema, table = qualified.split(".", 1)
        for index, engine in enumerate(self._engines):
            self._reached(index)
            try:
                inspector = sa.inspect(engine)
                if schema in self._schema_names(index, inspector) and (
                    inspector.has_table(table, schema=schema)
                ):
                    return engine.url.render_as_string(hide_password=False)
            except sa.exc.SQLAlchemyError:
                continue
        return None

    def _schema_names(self, index: int, inspector: sa.Inspector) -> set[str]:
        if index not in self._schemas:
            self._schemas[index] = set(inspector.get_schema_names())
        return self._schemas[index]


def _shape(inspector: sa.Inspector, schema: str, table: str) -> TableShape:
    checks = [
        c["sqltext"] for c in inspector.get_check_constraints(table, schema=schema)
    ]
    columns = inspector.get_columns(table, schema=schema)
    names = [c["name"] for c in columns]
    return {
        c["name"]: replace(
            column_shape(
                c["name"], c["type"], _listed_values(c["name"], names, checks)
            ),
            nullable=bool(c.get("nullable", True)),
            filled=_filled_by_database(c),
        )
        for c in columns
    }


def _filled_by_database(column: ReflectedColumn) -> bool:
    """Whether the database gives *column* a value when an insert leaves it out.

    SQLAlchemy reflects a server default (a PostgreSQL serial's ``nextval(...)``
    included) as ``default``, MySQL ``AUTO_INCREMENT`` and a PostgreSQL identity as
    ``autoincrement`` set to ``True`` (an identity also as ``identity``), and a
    generated column as ``computed``, on both servers.
    """
    return (
        column.get("default") is not None
        or column.get("autoincrement") is True
        or bool(column.get("identity"))
        or bool(column.get("computed"))
    )


def column_shape(
    name: str, sqltype: Any, values: tuple[Any, ...] | None
) -> ColumnShape:
    text = _COLLATE.sub("", str(sqltype))
    if isinstance(sqltype, satypes.Enum):
        return ColumnShape(name, text, "str", None, None, tuple(sqltype.enums))
    if isinstance(sqltype, satypes.Boolean):
        return ColumnShape(name, text, "bool", values=values)
    if isinstance(sqltype, satypes.Integer):
        return ColumnShape(name, text, "int", values=values)
    if isinstance(sqltype, satypes.Numeric) and not isinstance(sqltype, satypes.Float):
        return ColumnShape(name, text, "decimal", None, sqltype.scale, values)
    if isinstance(sqltype, satypes.DateTime):
        return ColumnShape(name, text, "datetime", values=values)
    if isinstance(sqltype, satypes.Date):
        return ColumnShape(name, text, "date", values=values)
    if isinstance(sqltype, satypes.String):
        return ColumnShape(name, text, "str", sqltype.length, None, values)
    return ColumnShape(name, text, "other", values=values)


_COLLATE = re.compile(r"\s+COLLATE\s+\S+", re.IGNORECASE)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_BETWEEN = re.compile(r"between\s+(-?\d+)\s+and\s+(-?\d+)", re.IGNORECASE)
_INTEGERS = re.compile(r"(?:\bin\b|\barray\b)\s*[\[(]([-\d,\s]+)[\])]", re.IGNORECASE)


def _listed_values(
    column: str, names: list[str], checks: list[str]
) -> tuple[Any, ...] | None:
    """Values a CHECK constraint on *column* alone allows: IN lists and BETWEEN."""
    for text in checks:
        mentioned = [
            n for n in names if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text)
        ]
        if mentioned != [column]:
            continue
        between = _BETWEEN.search(text)
        if between:
            low, high = int(between.group(1)), int(between.group(2))
            return tuple(range(low, high + 1))
        literals = _QUOTED.findall(text)
        if literals:
            return tuple(v.replace("''", "'") for v in literals)
        integers = _INTEGERS.search(text)
        if integers:
            return tuple(int(v) for v in integers.group(1).split(","))
    return None
