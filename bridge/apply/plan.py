"""Turn one batch of map results into the few statements that give the same end state.

Per target key the events are folded in source order: consecutive upserts and soft
deletes merge column by column (a later image wins, a column it did not carry keeps the
earlier value), a delete wipes what came before it. Each key then needs at most a delete
followed by one write, so deletes run first and writes after, batched per table and
column set. When any statement fails, the applier falls back to the events one by one,
which keeps the exact per-event semantics for the rows that did apply.

Under ``newer_wins`` a write whose version is older than the one already folded is
dropped, exactly as the statement's guard would drop it after the newer one. Merging
images with different column sets is not exact there (the merged write might lose to
the stored row as a whole), so such a key asks for the events one by one instead.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.apply.eventjson import encode_value
from bridge.events import UNAVAILABLE
from bridge.map.results import TargetOperation, TargetRow


@dataclass(slots=True)
class KeyPlan:
    """The net effect of a batch on one target row."""

    table: str
    key: dict[str, Any]
    delete_first: bool = False
    write: TargetOperation | None = None
    values: dict[str, Any] = field(default_factory=dict)
    last: TargetRow | None = None
    deleted_by: TargetRow | None = None
    version_column: str | None = None
    sequential: bool = False

    def fold(self, row: TargetRow) -> None:
        if self._loses(row):
            return
        self.last = row
        if row.operation is TargetOperation.DELETE:
            self.delete_first, self.write, self.values = True, None, {}
            self.deleted_by = row
            return

        known = _known(row.values)
        if not self.values:
            self.values = known
        else:
            if self.version_column is not None and not set(self.values) <= set(known):
                self.sequential = True
            self.values.update(known)
        if row.operation is TargetOperation.UPSERT or self.write is None:
            self.write = (
                TargetOperation.UPSERT
                if TargetOperation.UPSERT in (row.operation, self.write)
                else row.operation
            )

    def _loses(self, row: TargetRow) -> bool:
        """Whether the version guard would refuse *row* after what is folded so far."""
        column = self.version_column
        current = None if column is None else self.values.get(column)
        if column is None or current is None:
            return False
        if row.operation is not TargetOperation.UPSERT and column not in row.values:
            return False
        incoming = row.values.get(column)
        if incoming is None:
            return row.operation is not TargetOperation.DELETE
        return bool(incoming < current)


def key_identity(table: str, key: Mapping[str, Any]) -> str:
    """A stable text form of (table, key) for grouping and fingerprints."""
    encoded = {name: encode_value(value) for name, value in key.items()}
    return json.dumps([table, encoded], sort_keys=True, ensure_ascii=False)


def plan_batch(
    rows: Iterable[TargetRow], version_columns: Mapping[str, str | None] | None = None
) -> list[KeyPlan]:
    """The net effect per (table, key), in the order each key first appeared.

    *version_columns* names each table's ``newer_wins`` column, if it has one.
    """
    versions = version_columns or {}
    plans: dict[Hashable, KeyPlan] = {}
    for row in rows:
        identity = _grouping_key(row)
        plan = plans.get(identity)
        if plan is None:
            plan = KeyPlan(
                row.table, dict(row.key), version_column=versions.get(row.table)
            )
            plans[identity] = plan
        plan.fold(row)
    return list(plans.values())


def _grouping_key(row: TargetRow) -> Hashable:
    # Key values are nearly always hashable (str, int, Decimal, date); the JSON form
    # is the slow but general fallback.
    try:
        identity = (row.table, tuple(sorted(row.key.items())))
        hash(identity)
    except TypeError:
        return key_identity(row.table, row.key)
    return identity


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh dict of *values* without the columns whose value is unknown."""
    # A TOASTed column Debezium did not send is unknown: it must not overwrite the
    # stored value, so it is left out of the write altogether. (The membership test
    # runs in C and falls back to identity for the placeholder.)
    if UNAVAILABLE not in values.values():
        return dict(values)
    return {name: value for name, value in values.items() if value is not UNAVAILABLE}
