"""Which redelivered events the stored checkpoint already covers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "integration" / "apply"))

from apply_events import upsert

from bridge.checkpoint import unapplied
from bridge.events import SourcePosition


def stored(*order: int) -> SourcePosition:
    return SourcePosition("xyzg", order)


def test_events_at_or_before_the_checkpoint_are_skipped() -> None:
    # Pins C08: three events of one LSN differ only by their ordinal.
    batch = [upsert("t", (30, 30, n), {"id": 10 + n}) for n in range(3)]

    fresh, position = unapplied(batch, stored(30, 30, 0))

    assert [r.key["id"] for r in fresh] == [11, 12]
    assert position is not None and position.order == (30, 30, 2)


def test_a_duplicate_inside_one_batch_is_applied_once() -> None:
    row = upsert("t", (5, 1), {"id": 1})

    fresh, _ = unapplied([row, row], None)

    assert fresh == [row]


def test_snapshot_reads_are_always_kept_and_never_move_the_checkpoint_back() -> None:
    batch = [upsert("t", (4, 0), {"id": n}, snapshot=True) for n in range(2)]

    fresh, position = unapplied(batch, stored(4, 0))

    assert len(fresh) == 2
    assert position is not None and position.order == (4, 0)


def test_nothing_new_keeps_the_stored_position() -> None:
    fresh, position = unapplied([upsert("t", (1,), {"id": 1})], stored(2))

    assert (fresh, position) == ([], stored(2))
