"""The price of never showing a source transaction half-applied, on both dev targets.

One source transaction of N demo-like staging rows arrives in batches (Debezium's
``max.batch.size``). It goes once through :meth:`Applier.apply_batch` per batch (the
transaction becomes visible part by part) and once through
:class:`bridge.apply.pending.TransactionHold`: every batch but the last is held in
memory, the last one (with the END) applies them all in one target transaction.
Prints rows/s of both and the ratio hold / plain; then the same for N one-row
transactions, each complete within its batch (the common case: only the look-up of
held transactions is added).

    .venv/bin/python benchmarks/bench_pending.py [--rows N] [--batch N] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from bench_apply import COLUMNS, FILL, MAPPING, outcome
from sqlalchemy.engine import Engine

from bridge.apply import Applier, ConflictPolicy, install_bridge_tables, make_engine
from bridge.apply.pending import TransactionHold
from bridge.apply.policy import TargetSettings
from bridge.apply.schema import checkpoint, pending_event
from bridge.decode.markers import TransactionMarker
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map.results import MapResult, TargetOperation, TargetRow

SCRATCH = "cb_pending_bench"
TABLE = f"{SCRATCH}.outcome_staging"
TRANSACTION = "gtid-1"


def transaction_rows(count: int, *, one_row_each: bool = False) -> list[TargetRow]:
    rows = []
    for number in range(count):
        values = outcome(number)
        event = ChangeEvent(
            Operation.CREATE, "gsxt", "gsxt", "E_CR_REPAIR",
            {"REPAIRNO": values["xf_bh"]}, None, values,
            SourcePosition("gsxt", (1, 4, number, 0)),
            committed_at=values["xf_jdsj"],
            transaction_id=f"gtid-{number}" if one_row_each else TRANSACTION,
            transaction_order=1 if one_row_each else number + 1,
        )  # fmt: skip
        key = {"xf_bh": values["xf_bh"]}
        rows.append(
            TargetRow(TABLE, TargetOperation.UPSERT, key, values, event, MAPPING)
        )
    return rows


def reset(engine: Engine) -> None:
    name = engine.dialect.name
    kind = "SCHEMA" if name == "postgresql" else "DATABASE"
    cascade = " CASCADE" if name == "postgresql" else ""
    with engine.begin() as connection:
        install_bridge_tables(connection, name)
        connection.execute(sa.text(f"DROP {kind} IF EXISTS {SCRATCH}{cascade}"))
        connection.execute(sa.text(f"CREATE {kind} {SCRATCH}"))
        connection.execute(sa.text(f"CREATE TABLE {TABLE} ({COLUMNS[name]})"))


def forget(engine: Engine, pipeline: str) -> None:
    with engine.begin() as connection:
        for table in (checkpoint, pending_event):
            connection.execute(table.delete().where(table.c.pipeline == pipeline))


def applier(engine: Engine) -> Applier:
    settings = TargetSettings(ConflictPolicy.newer_wins("xf_jdsj"), FILL)
    return Applier(engine, targets={TABLE: settings})


def run_plain(engine: Engine, rows: list[TargetRow], batch: int) -> float:
    plain, pipeline = applier(engine), f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        plain.apply_batch(pipeline, rows[start : start + batch])
    seconds = time.perf_counter() - started
    forget(engine, pipeline)
    return seconds


def run_hold(engine: Engine, rows: list[TargetRow], batch: int) -> float:
    hold, pipeline = TransactionHold(applier(engine)), f"bench-{uuid.uuid4().hex[:8]}"
    by_key = {row.event.key["REPAIRNO"]: row for row in rows}
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        markers = _ends(part, start + batch >= len(rows), len(rows))
        hold.apply_batch(pipeline, part, markers, lambda e: _remap(by_key, e))
    seconds = time.perf_counter() - started
    forget(engine, pipeline)
    return seconds


def _ends(part: list[TargetRow], last: bool, total: int) -> list[TransactionMarker]:
    """The END records in a batch: one per one-row transaction, else at the end."""
    ids = {row.event.transaction_id for row in part}
    if ids != {TRANSACTION}:
        return [TransactionMarker("END", str(i), 1) for i in ids]
    return [TransactionMarker("END", TRANSACTION, total)] if last else []


def _remap(by_key: dict[str, TargetRow], event: ChangeEvent) -> MapResult:
    # What a mapping gives for the released event: its row, with the event read back.
    return replace(by_key[event.key["REPAIRNO"]], event=event)


def staged(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar_one()
        )


def bench(
    url: str, count: int, batch: int, repeat: int, *, one_row_each: bool = False
) -> tuple[float, float]:
    """Best rows/s of plain and hold over *repeat* interleaved rounds."""
    engine = make_engine(url)
    rows = transaction_rows(count, one_row_each=one_row_each)
    best: dict[str, float] = {"plain": 0.0, "hold": 0.0}
    runs: dict[str, Any] = {"plain": run_plain, "hold": run_hold}
    for _ in range(repeat):
        for name, run in runs.items():
            reset(engine)
            seconds = run(engine, rows, batch)
            assert staged(engine) == count, f"{name} left {staged(engine)} rows"
            best[name] = max(best[name], count / seconds)
    with engine.begin() as connection:
        kind = "SCHEMA" if engine.dialect.name == "postgresql" else "DATABASE"
        cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
        connection.execute(sa.text(f"DROP {kind} IF EXISTS {SCRATCH}{cascade}"))
    engine.dispose()
    return best["plain"], best["hold"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from bridge.devenv.api import ensure_up

    env = ensure_up()
    for one_row_each in (False, True):
        shape = "one-row transactions" if one_row_each else "one transaction"
        print(
            f"{shape} of {args.rows} rows in batches of {args.batch}, "
            f"best of {args.repeat}"
        )
        for label, server in (("postgresql", env.postgres), ("mysql", env.mysql)):
            plain, held = bench(
                server.url("admin"),
                args.rows,
                args.batch,
                args.repeat,
                one_row_each=one_row_each,
            )
            print(
                f"  {label:10}  plain {plain:7.0f} rows/s   whole transactions "
                f"{held:7.0f} rows/s   ratio {held / plain:.2f}"
            )


if __name__ == "__main__":
    main()
