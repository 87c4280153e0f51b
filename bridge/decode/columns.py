"""Column type hints: what the decoder knows about a table when no schema is sent.

With the JSON converter's schemas disabled (the fast setting) an event value is only a
JSON number or string: ``19782`` may be a date, an integer or a day count, ``"7.90"``
a decimal or a text. :class:`ColumnTypes` carries, per table and column, the logical
:class:`ColumnKind` read from the source database's catalog at start
(:mod:`bridge.decode.catalog`), plus the fractional-second precision that decides
which unit Debezium chose for times and timestamps.

With schemas enabled the schema wins; the hint still serves where the schema is
silent (a ``decimal.handling.mode=string`` decimal is a plain ``string`` field; a
MySQL ``BIGINT UNSIGNED`` is a plain ``int64``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class ColumnKind(enum.StrEnum):
    """The logical kind of a source column, as far as decoding is concerned."""

    INTEGER = "integer"
    UNSIGNED_BIGINT = "unsigned_bigint"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TEXT = "text"
    JSON = "json"
    UUID = "uuid"
    BINARY = "binary"
    BITS = "bits"
    DATE = "date"
    TIME = "time"
    TIME_TZ = "time_tz"
    TIMESTAMP = "timestamp"
    TIMESTAMP_TZ = "timestamp_tz"
    INTERVAL = "interval"
    ENUM = "enum"
    SET = "set"
    YEAR = "year"
    OTHER = "other"


class ReplicaIdentity(enum.StrEnum):
    """PostgreSQL ``REPLICA IDENTITY``: what a delete's before-image holds."""

    DEFAULT = "default"
    FULL = "full"
    INDEX = "index"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class ColumnType:
    """One column's kind; ``precision`` is fractional seconds for temporal kinds and
    the digit count for decimals; ``sql_type`` is the catalog's name, for messages."""

    kind: ColumnKind
    precision: int | None = None
    scale: int | None = None
    sql_type: str = ""


@dataclass(frozen=True, slots=True)
class TableTypes:
    """The column types of one table and, for PostgreSQL, its replica identity.

    ``identity_columns`` are the columns a delete's before-image carries under
    ``REPLICA IDENTITY DEFAULT`` or ``INDEX``; the others are decoded as
    :data:`bridge.events.UNAVAILABLE` instead of a misleading ``None``.
    """

    columns: Mapping[str, ColumnType]
    replica_identity: ReplicaIdentity | None = None
    identity_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ColumnTypes:
    """Table name -> column types. Tables are ``schema.table`` (PostgreSQL) or
    ``database.table`` (MySQL), as in the event's ``source`` block."""

    tables: Mapping[str, TableTypes] = field(default_factory=dict)

    @classmethod
    def from_kinds(
        cls, tables: Mapping[str, Mapping[str, ColumnKind | ColumnType]]
    ) -> ColumnTypes:
        """Build hints from plain kinds, mostly for tests and hand-written hints."""
        return cls(
            {
                name: TableTypes({col: _as_type(t) for col, t in columns.items()})
                for name, columns in tables.items()
            }
        )

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ColumnTypes:
        """The inverse of :meth:`to_json`."""
        return cls({name: _table_from_json(t) for name, t in document.items()})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, for fixtures and for logging what the catalog said."""
        return {name: _table_to_json(t) for name, t in self.tables.items()}

    def table(self, qualified_name: str) -> TableTypes | None:
        return self.tables.get(qualified_name)

    def merged(self, other: ColumnTypes) -> ColumnTypes:
        """A copy with ``other``'s tables added or replacing these."""
        return ColumnTypes({**self.tables, **other.tables})

    def interval_columns(self) -> list[str]:
        return [
            f"{table}.{column}"
            for table, column, column_type in self._iter_columns()
            if column_type.kind is ColumnKind.INTERVAL
        ]

    def _iter_columns(self) -> Iterator[tuple[str, str, ColumnType]]:
        for table, table_types in self.tables.items():
            for column, column_type in table_types.columns.items():
                yield table, column, column_type


def _table_to_json(table: TableTypes) -> dict[str, Any]:
    return {
        "columns": {
            name: {
                "kind": c.kind.value,
                "precision": c.precision,
                "scale": c.scale,
                "sql_type": c.sql_type,
            }
            for name, c in table.columns.items()
        },
        "replica_identity": table.replica_identity,
        "identity_columns": list(table.identity_columns),
    }


def _table_from_json(document: Mapping[str, Any]) -> TableTypes:
    identity = document.get("replica_identity")
    return TableTypes(
        columns={
            name: ColumnType(
                ColumnKind(c["kind"]),
                c.get("precision"),
                c.get("scale"),
                c.get("sql_type", ""),
            )
            for name, c in document["columns"].items()
        },
        replica_identity=None if identity is None else ReplicaIdentity(identity),
        identity_columns=tuple(document.get("identity_columns", ())),
    )


def qualified(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _as_type(value: ColumnKind | ColumnType) -> ColumnType:
    return value if isinstance(value, ColumnType) else ColumnType(value)


def kinds_of(table: TableTypes) -> dict[str, ColumnKind]:
    """Column -> kind, for messages and tests."""
    return {name: column.kind for name, column in table.columns.items()}


def table_names(names: Iterable[str]) -> list[tuple[str, str]]:
    """Split ``schema.table`` names; a name without a dot is refused."""
    pairs = []
    for name in names:
        schema, dot, table = name.partition(".")
        if not dot or not schema or not table:
            raise ValueError(f"table {name!r} must be written as schema.table")
        pairs.append((schema, table))
    return pairs
