"""Folding a batch into one net write per key (no database)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "integration" / "apply"))

from apply_events import delete, soft_delete, upsert

from bridge.apply.plan import plan_batch
from bridge.events import UNAVAILABLE
from bridge.map.results import TargetOperation

UPSERT, SOFT = TargetOperation.UPSERT, TargetOperation.SOFT_DELETE


def summary(rows: list) -> list[tuple]:  # type: ignore[type-arg]
    return [(p.key, p.delete_first, p.write, p.values) for p in plan_batch(rows)]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (  # C05 A: insert, delete, insert -> delete then the last insert
            [upsert("t", (1,), {"id": 5, "v": "a"}), delete("t", (2,), 5),
             upsert("t", (3,), {"id": 5, "v": "b"})],
            [({"id": 5}, True, UPSERT, {"id": 5, "v": "b"})],
        ),
        (  # C05 B: primary key change 5 -> 6
            [delete("t", (1,), 5), upsert("t", (2,), {"id": 6, "v": "b"})],
            [({"id": 5}, True, None, {}),
             ({"id": 6}, False, UPSERT, {"id": 6, "v": "b"})],
        ),
        (  # a later image keeps columns it did not carry
            [upsert("t", (1,), {"id": 1, "v": "a", "w": "x"}),
             upsert("t", (2,), {"id": 1, "v": "b", "w": UNAVAILABLE})],
            [({"id": 1}, False, UPSERT, {"id": 1, "v": "b", "w": "x"})],
        ),
        (  # upsert then soft delete stays an upsert carrying both
            [upsert("t", (1,), {"id": 1, "v": "a"}),
             soft_delete("t", (2,), 1, {"gone": True})],
            [({"id": 1}, False, UPSERT, {"id": 1, "v": "a", "gone": True})],
        ),
        (
            [soft_delete("t", (1,), 1, {"gone": True})],
            [({"id": 1}, False, SOFT, {"gone": True})],
        ),
        (  # an explicit None is a value, not a missing column (C10)
            [upsert("t", (1,), {"id": 1, "v": None})],
            [({"id": 1}, False, UPSERT, {"id": 1, "v": None})],
        ),
    ],
)  # fmt: skip
def test_plan_batch_folds_per_key_in_source_order(rows: list, expected: list) -> None:  # type: ignore[type-arg]
    assert summary(rows) == expected


def test_plan_batch_keeps_tables_apart() -> None:
    plans = plan_batch(
        [upsert("a", (1,), {"id": 1, "v": "x"}), upsert("b", (2,), {"id": 1, "v": "y"})]
    )

    assert [(p.table, p.values["v"]) for p in plans] == [("a", "x"), ("b", "y")]


def test_an_older_decision_later_in_the_batch_is_dropped() -> None:
    rows = [
        upsert("t", (1,), {"id": 1, "v": "new", "ts": 20}),
        upsert("t", (2,), {"id": 1, "v": "old", "ts": 10}),
        soft_delete("t", (3,), 1, {"gone": True, "ts": 5}),
    ]

    [plan] = plan_batch(rows, {"t": "ts"})

    assert (plan.values, plan.sequential) == ({"id": 1, "v": "new", "ts": 20}, False)


def test_images_with_fewer_columns_under_newer_wins_ask_for_one_by_one() -> None:
    # Pins: a merged image could carry columns of a decision the stored row beats.
    rows = [
        upsert("t", (1,), {"id": 1, "v": "a", "w": "x", "ts": 10}),
        upsert("t", (2,), {"id": 1, "v": "b", "w": UNAVAILABLE, "ts": 20}),
    ]

    [plan] = plan_batch(rows, {"t": "ts"})

    assert plan.sequential is True
