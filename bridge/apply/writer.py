"""Batched deletes, upserts and soft deletes of planned rows into one target table."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.apply.dialects import TargetDialect
from bridge.apply.errors import UniqueCollisionError
from bridge.apply.plan import KeyPlan
from bridge.apply.policy import ConflictKind
from bridge.apply.target import TargetTable

log = logging.getLogger(__name__)


class TableWriter:
    """Writes :class:`KeyPlan` s of one table; every call runs in the caller's txn."""

    def __init__(self, target: TargetTable, dialect: TargetDialect) -> None:
        self.target = target
        self.dialect = dialect

    def delete(self, connection: Connection, plans: Sequence[KeyPlan]) -> None:
        versioned = self._version_column()
        for guarded, group in _group(plans, lambda p: _version_of(p, versioned)):
            statement = self.target.table.delete().where(*self._key_match())
            if guarded and versioned is not None:
                statement = statement.where(self._older_or_same(versioned))
            params = [self._key_params(plan, versioned) for plan in group]
            connection.execute(statement, params)

    def upsert(self, connection: Connection, plans: Sequence[KeyPlan]) -> list[KeyPlan]:
        """Write *plans*; under ``park``, return the ones whose key already exists."""
        parked = self._existing(connection, plans) if self._parks() else []
        parked_ids = {id(plan) for plan in parked}
        writable = [plan for plan in plans if id(plan) not in parked_ids]
        if self.dialect.checks_unique_collisions():
            self.check_collisions(connection, writable)

        # Rows of one mapping list their columns in the same order: grouping by that
        # order (not a sorted set) is cheap and at worst splits a statement in two.
        rows = [self.dialect.bind_row(self._row(plan)) for plan in writable]
        for columns, group in _group_rows(rows):
            self.dialect.write_upserts(
                connection,
                self.target.table,
                group,
                key_columns=self.target.key_columns,
                columns=columns,
                policy=self.target.policy,
            )
        return parked

    def soft_delete(self, connection: Connection, plans: Sequence[KeyPlan]) -> None:
        versioned = self._version_column()
        for columns, group in _group(plans, lambda p: tuple(sorted(p.values))):
            statement = (
                self.target.table.update()
                .where(*self._key_match())
                .values({name: sa.bindparam(f"v_{name}") for name in columns})
            )
            if versioned is not None and versioned in columns:
                statement = statement.where(self._older_or_same(versioned))
            params = [self._update_params(plan, versioned) for plan in group]
            connection.execute(statement, params)

    def check_collisions(
        self, connection: Connection, plans: Sequence[KeyPlan]
    ) -> None:
        """Refuse a write whose other unique key belongs to a row with another key."""
        for unique in self.target.other_unique_keys:
            wanted = {
                values: plan
                for plan in plans
                if (values := _tuple(self._row(plan), unique)) is not None
            }
            if wanted:
                self._check_unique(connection, unique, wanted)

    def _check_unique(
        self,
        connection: Connection,
        unique: tuple[str, ...],
        wanted: dict[tuple[Any, ...], KeyPlan],
    ) -> None:
        table = self.target.table
        keys = self.target.key_columns
        columns = [table.c[name] for name in unique]
        query = (
            sa.select(*(table.c[name] for name in keys), *columns)
            .where(sa.tuple_(*columns).in_([list(v) for v in wanted]))
            .with_for_update()
        )
        for found in connection.execute(query):
            stored_key = tuple(found[: len(keys)])
            plan = _match(wanted, tuple(found[len(keys) :]))
            if plan is not None and stored_key != _tuple(plan.key, keys):
                raise UniqueCollisionError(
                    f"row {plan.key} for {self.target.name!r} collides on unique key "
                    f"({', '.join(unique)}) = {tuple(found[len(keys) :])!r} with the "
                    f"existing row {dict(zip(keys, stored_key, strict=True))}; "
                    "it goes to the dead-letter table and the other row is kept"
                )

    def _existing(
        self, connection: Connection, plans: Sequence[KeyPlan]
    ) -> list[KeyPlan]:
        keys = self.target.key_columns
        columns = [self.target.table.c[name] for name in keys]
        by_key = {tuple(plan.key[name] for name in keys): plan for plan in plans}
        query = (
            sa.select(*columns)
            .where(sa.tuple_(*columns).in_([list(key) for key in by_key]))
            .with_for_update()
        )
        return [
            by_key[tuple(row)]
            for row in connection.execute(query)
            if tuple(row) in by_key
        ]

    def _parks(self) -> bool:
        return self.target.policy.kind is ConflictKind.PARK

    def _version_column(self) -> str | None:
        policy = self.target.policy
        return policy.column if policy.versioned else None

    def _row(self, plan: KeyPlan) -> dict[str, Any]:
        return {**plan.values, **plan.key}

    def _key_match(self) -> list[sa.ColumnElement[bool]]:
        table = self.target.table
        return [
            table.c[name] == sa.bindparam(f"k_{name}")
            for name in self.target.key_columns
        ]

    def _older_or_same(self, column: str) -> sa.ColumnElement[bool]:
        stored = self.target.table.c[column]
        return sa.or_(stored.is_(None), stored <= sa.bindparam("version"))

    def _key_params(self, plan: KeyPlan, versioned: str | None) -> dict[str, Any]:
        params = {f"k_{name}": plan.key[name] for name in self.target.key_columns}
        if _version_of(plan, versioned):
            params["version"] = _delete_version(plan, versioned)
        return self.dialect.bind_row(params)

    def _update_params(self, plan: KeyPlan, versioned: str | None) -> dict[str, Any]:
        params = {f"k_{name}": plan.key[name] for name in self.target.key_columns}
        params.update({f"v_{name}": value for name, value in plan.values.items()})
        if versioned is not None and versioned in plan.values:
            params["version"] = plan.values[versioned]
        return self.dialect.bind_row(params)


def _version_of(plan: KeyPlan, versioned: str | None) -> bool:
    # A delete is guarded only when its mapping wrote the version column.
    return _delete_version(plan, versioned) is not None


def _delete_version(plan: KeyPlan, versioned: str | None) -> Any:
    if versioned is None or plan.deleted_by is None:
        return None
    return plan.deleted_by.values.get(versioned)


def _tuple(row: dict[str, Any] | Any, names: Sequence[str]) -> tuple[Any, ...] | None:
    values = tuple(row.get(name) for name in names)
    return None if any(value is None for value in values) else values


def _match(
    wanted: dict[tuple[Any, ...], KeyPlan], found: tuple[Any, ...]
) -> KeyPlan | None:
    if found in wanted:
        return wanted[found]
    # The database compares strings by collation (case, trailing spaces): fall back
    # to the same loose comparison rather than miss a collision.
    folded = tuple(_fold(value) for value in found)
    for values, plan in wanted.items():
        if tuple(_fold(value) for value in values) == folded:
            return plan
    return None


def _fold(value: Any) -> Any:
    return value.rstrip().casefold() if isinstance(value, str) else value


def _group(plans: Sequence[KeyPlan], by: Any) -> list[tuple[Any, list[KeyPlan]]]:
    """*plans* grouped by ``by(plan)``, groups and members in first-seen order."""
    groups: dict[Any, list[KeyPlan]] = {}
    for plan in plans:
        groups.setdefault(by(plan), []).append(plan)
    return list(groups.items())


def _group_rows(
    rows: Sequence[dict[str, Any]],
) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.items())
