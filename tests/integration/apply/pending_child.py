"""Child process of the held-transaction crash tests.

Usage: ``python pending_child.py URL PIPELINE TABLE FIRST CRASH_BATCH STEP [MAX_HELD]``:
applies the batches of one source transaction from batch FIRST on; before batch
CRASH_BATCH (0: never) it sets ``CREDITBRIDGE_FAULT=STEP`` so the process kills itself
there. With MAX_HELD the hold applies a transaction in parts past that many events.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from apply_events import MAPPING, upsert

from bridge.apply import Applier, ConflictPolicy, make_engine
from bridge.apply.faults import FAULT_VARIABLE
from bridge.apply.pending import DEFAULT_MAX_HELD, TransactionHold
from bridge.decode.markers import TransactionMarker
from bridge.events import ChangeEvent
from bridge.map.results import MapResult, TargetOperation, TargetRow

TRANSACTION = "tx-held"
BATCHES = 3
PER_BATCH = 3


def batches(table: str) -> list[list[MapResult]]:
    """Ids 1..9 of one source transaction, three to a batch; END with the last."""
    rows: list[MapResult] = []
    for key in range(1, BATCHES * PER_BATCH + 1):
        row = upsert(
            table,
            (40, key, 0),
            {"id": key, "code": f"c{key}"},
            transaction_id=TRANSACTION,
        )
        rows.append(replace(row, event=replace(row.event, transaction_order=key)))
    return [rows[n : n + PER_BATCH] for n in range(0, len(rows), PER_BATCH)]


def remap(table: str, event: ChangeEvent) -> MapResult:
    after = dict(event.after or {})
    return TargetRow(
        table, TargetOperation.UPSERT, {"id": after["id"]}, after, event, MAPPING
    )


def main(argv: list[str]) -> None:
    url, pipeline, table, first, crash, step = argv[:6]
    max_held = int(argv[6]) if len(argv) > 6 else DEFAULT_MAX_HELD
    engine = make_engine(url)
    applier = Applier(engine, default_policy=ConflictPolicy.source_wins())
    hold = TransactionHold(applier, max_held=max_held)
    end = [TransactionMarker("END", TRANSACTION, BATCHES * PER_BATCH)]
    for number, batch in enumerate(batches(table), start=1):
        if number < int(first):
            continue
        if number == int(crash):
            os.environ[FAULT_VARIABLE] = step
        markers = end if number == BATCHES else []
        hold.apply_batch(pipeline, batch, markers, lambda e: remap(table, e))


if __name__ == "__main__":
    main(sys.argv[1:8])
