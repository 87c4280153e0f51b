"""Releasing map results in whole source transactions."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "integration" / "apply"))

from apply_events import upsert

from bridge.apply.batching import TransactionBuffer


def ids(results: list) -> list[int]:  # type: ignore[type-arg]
    return [r.key["id"] for r in results]


def test_the_open_trailing_transaction_waits_for_the_next_one() -> None:
    buffer = TransactionBuffer()
    first = [
        upsert("t", (1,), {"id": 1}, transaction_id="tx-1"),
        upsert("t", (2,), {"id": 2}, transaction_id="tx-2"),
        upsert("t", (3,), {"id": 3}, transaction_id="tx-2"),
    ]

    ready = buffer.add(first)
    later = buffer.add([upsert("t", (4,), {"id": 4}, transaction_id="tx-3")])

    assert (ids(ready), ids(later), buffer.pending) == ([1], [2, 3], 1)
    assert ids(buffer.flush()) == [4]


def test_events_without_a_transaction_id_are_released_at_once() -> None:
    buffer = TransactionBuffer()

    ready = buffer.add([upsert("t", (1,), {"id": 1}, transaction_id=None)])

    assert (ids(ready), buffer.pending) == ([1], 0)


def test_a_transaction_over_the_limit_is_released_in_parts() -> None:
    # Pins: one huge source transaction must not grow the buffer without bound.
    buffer = TransactionBuffer(limit=2)
    rows = [upsert("t", (n,), {"id": n}, transaction_id="big") for n in range(3)]

    assert ids(buffer.add(rows)) == [0, 1, 2]
