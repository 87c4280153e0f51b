"""Holding the open tail of a source transaction: the plan, and settling a batch
against a fake store at the pending-table seam (no database)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.apply.applier import ApplyReport
from bridge.apply.pending import (
    HeldBatch,
    HeldTransaction,
    TransactionHold,
    plan_hold,
)
from bridge.apply.retry import RetrySettings
from bridge.decode.markers import TransactionMarker
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map.results import Filtered, MappingRef, MapResult

REF = MappingRef("m", "", "")


def result(n: int, transaction: str | None, *, tracked: bool = True) -> MapResult:
    event = ChangeEvent(
        op=Operation.CREATE,
        source="pg",
        schema="s",
        table="t",
        key={"id": n},
        before=None,
        after={"id": n},
        position=SourcePosition("pg", (n, n, 0)),
        transaction_id=transaction,
        transaction_order=n if tracked and transaction else None,
    )
    return Filtered(event, REF, "test")


def end(transaction: str, count: int | None = None) -> TransactionMarker:
    return TransactionMarker("END", transaction, count)


def held(transaction: str, events: int, first: int, age: float = 0) -> HeldTransaction:
    since = datetime.now(UTC) - timedelta(seconds=age)
    return HeldTransaction(transaction, events, first, first + events - 1, since)


def ids(results: Sequence[MapResult]) -> list[int]:
    return [r.event.key["id"] for r in results]


def test_the_open_tail_is_held_and_complete_transactions_apply() -> None:
    fresh = [result(1, "a"), result(2, "a"), result(3, "b"), result(4, "b")]

    plan = plan_hold([], fresh, [end("a")])

    assert (plan.release, ids(plan.apply), ids(plan.hold)) == ([], [1, 2], [3, 4])


def test_end_in_the_batch_releases_the_held_transaction() -> None:
    plan = plan_hold([held("a", 3, 1)], [result(4, "a")], [end("a", 4)])

    assert (plan.release, ids(plan.apply), plan.hold) == (["a"], [4], [])


def test_a_held_transaction_without_end_stays_held() -> None:
    plan = plan_hold([held("a", 3, 1)], [result(4, "a")], [])

    assert (plan.release, plan.apply, ids(plan.hold)) == ([], [], [4])


def test_a_later_transaction_completes_one_whose_end_was_lost() -> None:
    plan = plan_hold([held("a", 3, 1)], [result(4, "b")], [])

    assert (plan.release, plan.apply, ids(plan.hold)) == (["a"], [], [4])


def test_events_without_metadata_apply_at_once() -> None:
    fresh = [result(1, "a"), result(2, "snap", tracked=False), result(3, "a")]

    plan = plan_hold([], fresh, [])

    assert (ids(plan.apply), ids(plan.hold)) == ([2], [1, 3])


def test_a_batch_of_only_untracked_events_keeps_the_held_transaction() -> None:
    plan = plan_hold([held("a", 2, 1)], [result(9, None, tracked=False)], [])

    assert (plan.release, ids(plan.apply), plan.hold) == ([], [9], [])


class FakeStore:
    """The pending table in memory: ``rows`` are (seq, transaction, event)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, ChangeEvent]] = []
        self.held_since = datetime.now(UTC)

    def held(self, connection: Any, pipeline: str) -> list[HeldTransaction]:
        groups: dict[str, list[int]] = {}
        for seq, transaction, _ in self.rows:
            groups.setdefault(transaction, []).append(seq)
        return [
            HeldTransaction(t, len(s), min(s), max(s), self.held_since)
            for t, s in sorted(groups.items(), key=lambda item: min(item[1]))
        ]

    def load(self, connection: Any, pipeline: str, ids: Sequence[str]) -> list[Any]:
        return [event for _, t, event in sorted(self.rows) if t in ids]

    def hold(self, connection: Any, pipeline: str, events: Any, first: int) -> None:
        for n, event in enumerate(events):
            self.rows.append((first + n, event.transaction_id, event))

    def release(self, connection: Any, pipeline: str, ids: Sequence[str]) -> None:
        self.rows = [row for row in self.rows if row[1] not in ids]


def remap(event: ChangeEvent) -> MapResult:
    return Filtered(event, REF, "remapped")


def hold_with(store: FakeStore) -> TransactionHold:
    return TransactionHold(None, store=store)  # type: ignore[arg-type]


def test_a_transaction_across_three_batches_applies_once_whole() -> None:
    store = FakeStore()
    hold = hold_with(store)

    first = hold.settle(None, "p", [result(1, "a"), result(2, "a")], [], remap)  # type: ignore[arg-type]
    second = hold.settle(None, "p", [result(3, "a")], [], remap)  # type: ignore[arg-type]
    third = hold.settle(None, "p", [result(4, "a")], [end("a", 4)], remap)  # type: ignore[arg-type]

    assert (first.apply, first.held, second.apply, second.held) == ([], 2, [], 1)
    assert [s for s, _, _ in store.rows] == []
    assert ids(third.apply) == [1, 2, 3, 4]
    assert [r.reason for r in third.apply] == ["remapped"] * 3 + ["test"]  # type: ignore[attr-defined]
    assert (third.held, third.released) == (0, 3)


def test_held_events_keep_their_order_across_batches() -> None:
    store = FakeStore()
    hold = hold_with(store)

    hold.settle(None, "p", [result(1, "a")], [], remap)  # type: ignore[arg-type]
    hold.settle(None, "p", [result(2, "a"), result(3, "a")], [], remap)  # type: ignore[arg-type]

    assert [(seq, e.key["id"]) for seq, _, e in store.rows] == [(1, 1), (2, 2), (3, 3)]


def test_count_mismatch_and_lost_end_are_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    hold = hold_with(store)
    hold.settle(None, "p", [result(1, "a"), result(2, "a")], [], remap)  # type: ignore[arg-type]

    with caplog.at_level(logging.WARNING, logger="bridge.apply.pending"):
        hold.settle(None, "p", [result(3, "a")], [end("a", 5)], remap)  # type: ignore[arg-type]
        hold.settle(None, "p", [result(4, "b")], [], remap)  # type: ignore[arg-type]
        hold.settle(None, "p", [result(5, "c")], [], remap)  # type: ignore[arg-type]

    assert caplog.messages == [
        "pipeline p: source transaction a ended with 5 events but 3 reached the "
        "bridge; they are applied as they are",
        "pipeline p: source transaction b ended without an END record (a later "
        "transaction arrived); its 1 held events are applied",
    ]


def test_events_held_too_long_are_warned(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore()
    hold = TransactionHold(None, store=store, warn_after=timedelta(minutes=5))  # type: ignore[arg-type]
    hold.settle(None, "p", [result(1, "a")], [], remap)  # type: ignore[arg-type]
    store.held_since = datetime.now(UTC) - timedelta(minutes=6, seconds=1)

    with caplog.at_level(logging.WARNING, logger="bridge.apply.pending"):
        hold.settle(None, "p", [result(2, "a")], [], remap)  # type: ignore[arg-type]

    assert caplog.messages == [
        "pipeline p: 1 events of source transaction a held for 361 s waiting for "
        "its END; they are applied when it or a later transaction arrives"
    ]


def test_without_tracking_everything_held_is_released() -> None:
    fresh = [result(9, "b")]

    plan = plan_hold([held("a", 2, 1)], fresh, [], tracking=False)

    assert (plan.release, ids(plan.apply), plan.hold) == (["a"], [9], [])


class PlainApplier:
    """The applier's plain batch path, recorded."""

    retry = RetrySettings(attempts=1)

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def apply_batch(self, pipeline: str, results: Sequence[MapResult]) -> ApplyReport:
        self.batches.append(ids(results))
        return ApplyReport(applied=len(results))


def test_without_tracking_the_first_batch_drains_then_the_applier_takes_over(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FakeStore()
    hold_with(store).settle(None, "p", [result(1, "a")], [], remap)  # type: ignore[arg-type]
    applier = PlainApplier()
    hold = TransactionHold(applier, store=store, tracking=False)  # type: ignore[arg-type]
    settled: list[list[int]] = []
    monkeypatch.setattr(
        hold,
        "_apply_once",
        lambda pipeline, results, markers, remap: _settle_without_db(
            hold, results, settled
        ),
    )

    with caplog.at_level(logging.WARNING, logger="bridge.apply.pending"):
        hold.apply_batch("p", [result(2, None, tracked=False)], [], remap)
    hold.apply_batch("p", [result(3, None, tracked=False)], [], remap)

    assert (settled, applier.batches, store.rows) == ([[1, 2]], [[3]], [])
    assert caplog.messages == [
        "pipeline p: source transaction a ended without an END record (the connector "
        "no longer sends transaction metadata); its 1 held events are applied"
    ]


def _settle_without_db(
    hold: TransactionHold, results: Sequence[MapResult], settled: list[list[int]]
) -> HeldBatch:
    outcome = hold.settle(None, "p", results, [], remap)  # type: ignore[arg-type]
    settled.append(ids(outcome.apply))
    return HeldBatch(ApplyReport(), outcome.apply)
