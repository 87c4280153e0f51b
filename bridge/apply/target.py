"""What the apply stage knows about one target table, read once from the database."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.apply.policy import ConflictPolicy
from bridge.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TargetTable:
    """A reflected target table with its key, other unique keys and policy."""

    name: str
    table: sa.Table
    key_columns: tuple[str, ...]
    other_unique_keys: tuple[tuple[str, ...], ...]
    policy: ConflictPolicy


def reflect_target(
    connection: Connection,
    name: str,
    key_columns: Sequence[str],
    policy: ConflictPolicy,
) -> TargetTable:
    """Read *name* (``schema.table`` or ``table``) and check the mapping fits it."""
    schema, _, table_name = name.rpartition(".")
    try:
        table = sa.Table(
            table_name, sa.MetaData(), schema=schema or None, autoload_with=connection
        )
    except sa.exc.NoSuchTableError:
        raise ConfigError(
            f"target table {name!r} does not exist or the writer cannot see it; "
            "the pipeline stops until it is created or the mapping is fixed"
        ) from None

    keys = tuple(_column(table, name, column) for column in key_columns)
    resolved = _resolve_policy(table, name, policy)
    others = _other_unique_keys(connection, table, keys)
    log.debug("target %s: key %s, other unique keys %s", name, keys, others)
    return TargetTable(name, table, keys, others, resolved)


def _column(table: sa.Table, table_name: str, column: str) -> str:
    if column in table.c:
        return column
    for candidate in table.c:
        if candidate.name.lower() == column.lower():
            return candidate.name
    raise ConfigError(
        f"target table {table_name!r} has no column {column!r}; "
        "the pipeline stops until the mapping or the table is fixed"
    )


def _resolve_policy(
    table: sa.Table, table_name: str, policy: ConflictPolicy
) -> ConflictPolicy:
    if not policy.versioned or policy.column is None:
        return policy
    try:
        return ConflictPolicy(policy.kind, _column(table, table_name, policy.column))
    except ConfigError:
        raise ConfigError(
            f"conflict policy newer_wins of target table {table_name!r} needs column "
            f"{policy.column!r}, which the table lacks; declare another column or "
            "choose source_wins, target_wins or park; the pipeline stops"
        ) from None


def _other_unique_keys(
    connection: Connection, table: sa.Table, key: tuple[str, ...]
) -> tuple[tuple[str, ...], ...]:
    inspector = sa.inspect(connection)
    found: list[tuple[str, ...]] = []
    unique_sets = [
        index["column_names"]
        for index in inspector.get_indexes(table.name, schema=table.schema)
        if index["unique"]
    ] + [
        constraint["column_names"]
        for constraint in inspector.get_unique_constraints(
            table.name, schema=table.schema
        )
    ]
    primary = inspector.get_pk_constraint(table.name, schema=table.schema)
    unique_sets.append(primary["constrained_columns"])
    for columns in unique_sets:
        names = tuple(str(column) for column in columns if column is not None)
        if names and set(names) != set(key) and names not in found:
            found.append(names)
    return tuple(found)
