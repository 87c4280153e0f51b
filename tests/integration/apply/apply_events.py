"""Builders of change events and map results for the apply-stage tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map.results import (
    Filtered,
    MappingRef,
    Rejection,
    TargetOperation,
    TargetRow,
)

MAPPING = MappingRef("test-mapping", "/nonexistent/test.yaml", "v1")
COMMITTED = datetime(2024, 6, 15, 4, 0, tzinfo=UTC)


def event(
    order: tuple[int, ...],
    op: Operation,
    after: Mapping[str, Any] | None,
    *,
    before: Mapping[str, Any] | None = None,
    key: Mapping[str, Any] | None = None,
    table: str = "t",
    snapshot: bool = False,
    transaction_id: str | None = "tx-1",
) -> ChangeEvent:
    image = after if after is not None else before
    assert image is not None or key is not None
    return ChangeEvent(
        op=op,
        source="xyzg",
        schema="public",
        table=table,
        key=dict(key if key is not None else {"id": image["id"]}),  # type: ignore[index]
        before=before,
        after=after,
        position=SourcePosition(
            "xyzg", order, snapshot, {"lsn": f"0/{order[0]:X}", "txId": transaction_id}
        ),
        committed_at=COMMITTED,
        transaction_id=transaction_id,
        raw='{"payload": "as Debezium sent it"}',
    )


def upsert(
    target: str, order: tuple[int, ...], values: Mapping[str, Any], **kw: Any
) -> TargetRow:
    # A snapshot reads rows; only the log creates them.
    op = Operation.READ if kw.get("snapshot") else Operation.CREATE
    change = event(order, op, values, **kw)
    return TargetRow(
        target,
        TargetOperation.UPSERT,
        {"id": values["id"]},
        dict(values),
        change,
        MAPPING,
    )


def delete(target: str, order: tuple[int, ...], key: int, **kw: Any) -> TargetRow:
    change = event(order, Operation.DELETE, None, before={"id": key}, **kw)
    return TargetRow(target, TargetOperation.DELETE, {"id": key}, {}, change, MAPPING)


def soft_delete(
    target: str, order: tuple[int, ...], key: int, values: Mapping[str, Any]
) -> TargetRow:
    change = event(order, Operation.DELETE, None, before={"id": key})
    return TargetRow(
        target, TargetOperation.SOFT_DELETE, {"id": key}, dict(values), change, MAPPING
    )


def rejection(order: tuple[int, ...], key: int, reason: str) -> Rejection:
    change = event(order, Operation.CREATE, {"id": key})
    return Rejection(change, MAPPING, "MappingError", reason)


def filtered(order: tuple[int, ...], key: int) -> Filtered:
    change = event(order, Operation.CREATE, {"id": key})
    return Filtered(change, MAPPING, "loop guard: the row came from this side")
