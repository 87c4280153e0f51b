"""Holding the open tail of a source transaction: the plan, and batches through a
TransactionHold whose database step is replaced at its seam (no database)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bridge.apply.applier import ApplyReport
from bridge.apply.pending import HeldBatch, TransactionHold, _Outcome, plan_hold
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


def ids(results: Sequence[MapResult]) -> list[int]:
    return [r.event.key["id"] for r in results]


def test_the_open_tail_is_held_and_complete_transactions_apply() -> None:
    window = [result(1, "a"), result(2, "a"), result(3, "b"), result(4, "b")]

    plan = plan_hold(window, [end("a")])

    assert (ids(plan.apply), ids(plan.hold), plan.open_transaction) == (
        [1, 2],
        [3, 4],
        "b",
    )


def test_end_in_the_batch_releases_the_held_tail() -> None:
    window = [result(1, "a"), result(2, "a"), result(3, "a"), result(4, "a")]

    plan = plan_hold(window, [end("a", 4)])

    assert (ids(plan.apply), plan.hold, plan.open_transaction) == (
        [1, 2, 3, 4],
        [],
        None,
    )


def test_a_transaction_without_end_stays_held() -> None:
    plan = plan_hold([result(1, "a"), result(2, "a")], [])

    assert (plan.apply, ids(plan.hold), plan.open_transaction) == ([], [1, 2], "a")


def test_a_later_transaction_completes_one_whose_end_was_lost() -> None:
    window = [result(1, "a"), result(2, "a"), result(3, "b")]

    plan = plan_hold(window, [])

    assert (ids(plan.apply), ids(plan.hold)) == ([1, 2], [3])


def test_events_without_metadata_apply_at_once_unless_behind_an_open_one() -> None:
    window = [
        result(1, None, tracked=False),
        result(2, "a"),
        result(3, None, tracked=False),
        result(4, "a"),
    ]

    open_plan = plan_hold(window, [])
    ended_plan = plan_hold(window, [end("a")])

    # Applying 3 while 2 waits would move the checkpoint past a held event.
    assert (ids(open_plan.apply), ids(open_plan.hold)) == ([1], [2, 3, 4])
    assert (ids(ended_plan.apply), ended_plan.hold) == ([1, 2, 3, 4], [])


def test_without_tracking_nothing_waits() -> None:
    plan = plan_hold([result(1, "a"), result(2, "a")], [], tracking=False)

    assert (ids(plan.apply), plan.hold, plan.open_transaction) == ([1, 2], [], None)


class PlainApplier:
    """The applier's plain batch path, recorded."""

    retry = RetrySettings(attempts=1)

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def apply_batch(self, pipeline: str, results: Sequence[MapResult]) -> ApplyReport:
        self.batches.append(ids(results))
        return ApplyReport(applied=len(results))


class Hold(TransactionHold):
    """A TransactionHold whose target transaction is replaced by recording what it
    would apply (the seam is ``_apply_once``)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(PlainApplier(), **kwargs)  # type: ignore[arg-type]
        self.applied: list[list[int]] = []

    def _apply_once(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: object,
    ) -> _Outcome:
        plan = self.settle(pipeline, results, markers)
        self.applied.append(ids(plan.apply))
        batch = HeldBatch(
            ApplyReport(),
            plan.apply,
            held=len(plan.hold),
            open_transaction=plan.open_transaction,
        )
        return _Outcome(batch, plan.hold)

    def batch(
        self, *fresh: MapResult, markers: Sequence[TransactionMarker] = ()
    ) -> HeldBatch:
        return self.apply_batch("p", fresh, markers, remap)


def remap(event: ChangeEvent) -> MapResult:
    return Filtered(event, REF, "remapped")


def test_a_transaction_across_three_batches_applies_once_whole() -> None:
    hold = Hold()

    first = hold.batch(result(1, "a"))
    second = hold.batch(result(2, "a"))
    third = hold.batch(result(3, "a"), result(4, "b"), markers=[end("a", 3)])

    assert hold.applied == [[], [], [1, 2, 3]]
    assert [(b.held, b.open_transaction) for b in (first, second, third)] == [
        (1, "a"),
        (2, "a"),
        (1, "b"),
    ]
    assert hold.held == 1


def test_a_failed_batch_keeps_the_held_tail_as_it_was() -> None:
    """Pins: the tail changed before the commit, so a retried batch lost events."""
    hold = Hold()
    hold.batch(result(1, "a"))

    def refuse(*_args: object) -> _Outcome:
        raise RuntimeError("target gone")

    hold._apply_once = refuse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="target gone"):
        hold.apply_batch("p", [result(2, "a")], [end("a")], remap)

    assert hold.held == 1


def test_count_mismatch_and_lost_end_are_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hold = Hold()
    hold.batch(result(1, "a"), result(2, "a"))

    caplog.clear()  # the INFO line of the batch before (when INFO is enabled)
    with caplog.at_level(logging.WARNING, logger="bridge.apply.pending"):
        hold.batch(result(3, "a"), markers=[end("a", 5)])
        hold.batch(result(4, "b"))
        hold.batch(result(5, "c"))

    assert hold.applied == [[], [1, 2, 3], [], [4]]
    assert caplog.messages == [
        "pipeline p: source transaction a ended with 5 events but 3 reached the "
        "bridge; they are applied as they are",
        "pipeline p: source transaction b ended without an END record (a later "
        "transaction arrived); its 1 held events are applied",
    ]


def test_events_held_too_long_are_warned(caplog: pytest.LogCaptureFixture) -> None:
    hold = Hold(warn_after=timedelta(minutes=5))
    hold.batch(result(1, "a"))
    hold._held_since = datetime.now(UTC) - timedelta(minutes=6, seconds=1)

    caplog.clear()  # the INFO line of the batch before (when INFO is enabled)
    with caplog.at_level(logging.WARNING, logger="bridge.apply.pending"):
        hold.batch(result(2, "a"))

    assert caplog.messages == [
        "pipeline p: 1 events of source transaction a held for 361 s waiting for "
        "its END; they are applied when it or a later transaction arrives"
    ]


def test_without_tracking_the_first_batch_drains_then_the_applier_takes_over() -> None:
    hold = Hold(tracking=False)

    hold.batch(result(1, None, tracked=False))
    hold.batch(result(2, None, tracked=False))

    assert (hold.applied, hold._applier.batches) == ([[1]], [[2]])  # type: ignore[attr-defined]


def test_a_transaction_over_the_limit_is_applied_in_parts_and_stays_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hold = Hold(max_held=2)

    with caplog.at_level(logging.WARNING, logger="bridge.apply.pending"):
        batches = [
            hold.batch(result(1, "a"), result(2, "a")),
            hold.batch(result(3, "a")),
            hold.batch(result(4, "a")),
            hold.batch(result(5, "a"), result(6, "b"), markers=[end("a", 5)]),
        ]

    assert hold.applied == [[], [1, 2, 3], [4], [5]]
    # Open until its END: the capture stage keeps its records unacknowledged.
    assert [(b.held, b.open_transaction) for b in batches] == [
        (2, "a"),
        (0, "a"),
        (0, "a"),
        (1, "b"),
    ]
    # One warning when it is parted; its END's count covers every part.
    assert caplog.messages == [
        "pipeline p: source transaction a has 3 events waiting for its END, over "
        "the limit of 2; it is applied in parts from now on, and readers may see "
        "it half-applied until it ends"
    ]


def test_the_next_transaction_is_held_whole_again_after_a_parted_one() -> None:
    hold = Hold(max_held=1)
    hold.batch(result(1, "a"), result(2, "a"))

    after = hold.batch(result(3, "b"), markers=[end("a", 2)])
    last = hold.batch(result(4, "b"), result(5, "c"), markers=[end("b", 2)])

    assert hold.applied == [[1, 2], [], [3, 4]]
    assert [(b.held, b.open_transaction) for b in (after, last)] == [
        (1, "b"),
        (1, "c"),
    ]
