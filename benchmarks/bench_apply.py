"""Apply-stage throughput against the raw database, on both dev targets.

For PostgreSQL and MySQL: N demo-like staging rows (restoration outcomes) go once
through :class:`bridge.apply.Applier` (newer_wins, bridge metadata columns, checkpoint
and a target transaction per batch) and once through a raw DB-API ``executemany``
insert of the same values into the same empty table, committed per batch of the same
size. Prints rows/s for both and the ratio applier / raw (goal >= 0.5).

    .venv/bin/python benchmarks/bench_apply.py [--rows N] [--batch N] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bridge.apply import Applier, ConflictPolicy, install_bridge_tables, make_engine
from bridge.apply.policy import MetadataFill, TargetSettings
from bridge.apply.schema import checkpoint
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map.results import MappingRef, TargetOperation, TargetRow

SCRATCH = "cb_apply_bench"
TABLE = f"{SCRATCH}.outcome_staging"
MAPPING = MappingRef("bench", "benchmarks/bench_apply.py", "1")
FILL = MetadataFill(
    "cb_origin", "XYZG", "cb_src_position", "cb_src_commit_ts", "cb_applied_at"
)

COLUMNS = {
    "postgresql": """
        xf_bh varchar(40) primary key, xdr_mc text, xdr_shxym char(18),
        cf_wsh_gf text, xf_lx char(2), xf_jdwh text, xf_rq date,
        xf_jdsj timestamptz, xf_dw text, xf_dwdm char(18), zzgs_sj timestamptz,
        sjly varchar(4), dfbm char(6), cb_origin varchar(8), cb_src_position text,
        cb_src_commit_ts timestamptz, cb_applied_at timestamptz
    """,
    "mysql": """
        xf_bh varchar(40) primary key, xdr_mc varchar(200), xdr_shxym char(18),
        cf_wsh_gf varchar(100), xf_lx char(2), xf_jdwh varchar(100), xf_rq date,
        xf_jdsj datetime(6), xf_dw varchar(100), xf_dwdm char(18),
        zzgs_sj datetime(6), sjly varchar(4), dfbm char(6), cb_origin varchar(8),
        cb_src_position text, cb_src_commit_ts datetime(6), cb_applied_at datetime(6)
    """,
}


def outcome(number: int) -> dict[str, Any]:
    decided = datetime(2024, 6, 14, 16, 0, tzinfo=UTC) + timedelta(seconds=number)
    return {
        "xf_bh": f"XF-GSXT-310000-20240615-{number:06d}",
        "xdr_mc": "上海禾青餐饮管理有限公司",
        "xdr_shxym": "91310115MAF5PJ963C",
        "cf_wsh_gf": f"沪浦市监处〔2024〕{number}号",
        "xf_lx": "04",
        "xf_jdwh": f"沪浦市监信修〔2024〕{number}号",
        "xf_rq": date(2024, 6, 15),
        "xf_jdsj": decided,
        "xf_dw": "上海市浦东新区市场监督管理局",
        "xf_dwdm": "11310115MB2F31945E",
        "zzgs_sj": decided,
        "sjly": "GSXT",
        "dfbm": "310000",
    }


def target_rows(count: int) -> list[TargetRow]:
    rows = []
    for number in range(count):
        values = outcome(number)
        event = ChangeEvent(
            Operation.CREATE, "gsxt", "gsxt", "E_CR_REPAIR",
            {"REPAIRNO": values["xf_bh"]}, None, values,
            SourcePosition("gsxt", (1, 4 + number, 0, 0)),
            committed_at=values["xf_jdsj"], transaction_id=str(number),
        )  # fmt: skip
        key = {"xf_bh": values["xf_bh"]}
        rows.append(
            TargetRow(TABLE, TargetOperation.UPSERT, key, values, event, MAPPING)
        )
    return rows


def raw_rows(rows: list[TargetRow], dialect: str) -> list[tuple[Any, ...]]:
    """The same values the applier writes, bridge columns included."""
    now = datetime.now(UTC)
    result = []
    for row in rows:
        values = {
            **row.values,
            "cb_origin": "XYZG",
            "cb_src_position": row.event.position.to_json(),
            "cb_src_commit_ts": row.event.committed_at,
            "cb_applied_at": now,
        }
        if dialect == "mysql":
            values = {k: _naive_utc(v) for k, v in values.items()}
        result.append(tuple(values.values()))
    return result


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def reset(engine: Engine) -> None:
    name = engine.dialect.name
    kind = "SCHEMA" if name == "postgresql" else "DATABASE"
    with engine.begin() as connection:
        install_bridge_tables(connection, name)
        cascade = " CASCADE" if name == "postgresql" else ""
        connection.execute(sa.text(f"DROP {kind} IF EXISTS {SCRATCH}{cascade}"))
        connection.execute(sa.text(f"CREATE {kind} {SCRATCH}"))
        connection.execute(sa.text(f"CREATE TABLE {TABLE} ({COLUMNS[name]})"))


def drop(engine: Engine, pipeline: str) -> None:
    kind = "SCHEMA" if engine.dialect.name == "postgresql" else "DATABASE"
    cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP {kind} IF EXISTS {SCRATCH}{cascade}"))
        connection.execute(checkpoint.delete().where(checkpoint.c.pipeline == pipeline))


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run_raw(engine: Engine, rows: list[tuple[Any, ...]], batch: int) -> None:
    columns = [
        *outcome(0), "cb_origin", "cb_src_position", "cb_src_commit_ts", "cb_applied_at"
    ]  # fmt: skip
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({marks})"
    connection = engine.raw_connection()
    try:
        for start in range(0, len(rows), batch):
            cursor = connection.cursor()
            cursor.executemany(sql, rows[start : start + batch])
            cursor.close()
            connection.commit()
    finally:
        connection.close()


def run_applier(
    engine: Engine, rows: list[TargetRow], batch: int, pipeline: str
) -> None:
    settings = TargetSettings(ConflictPolicy.newer_wins("xf_jdsj"), FILL)
    applier = Applier(engine, targets={TABLE: settings})
    for start in range(0, len(rows), batch):
        applier.apply_batch(pipeline, rows[start : start + batch])


def bench(url: str, count: int, batch: int, repeat: int) -> tuple[float, float]:
    """Best rows/s of raw and applier over *repeat* interleaved rounds.

    The machine is shared: interleaving and keeping the best of each side measures
    the code rather than whoever else was busy at that moment.
    """
    engine = make_engine(url)
    name = engine.dialect.name
    rows = target_rows(count)
    raw_best = applied_best = 0.0
    for _ in range(repeat):
        pipeline = f"bench-{uuid.uuid4().hex[:8]}"
        reset(engine)
        raw = timed(partial(run_raw, engine, raw_rows(rows, name), batch))
        reset(engine)
        applied = timed(partial(run_applier, engine, rows, batch, pipeline))
        with engine.connect() as connection:
            query = sa.text(f"SELECT count(*) FROM {TABLE}")
            written = connection.execute(query).scalar()
        assert written == count, f"applier wrote {written} of {count} rows"
        drop(engine, pipeline)
        raw_best = max(raw_best, count / raw)
        applied_best = max(applied_best, count / applied)

    engine.dispose()
    return raw_best, applied_best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from bridge.devenv.api import ensure_up

    env = ensure_up()
    print(f"{args.rows} rows, batches of {args.batch}, best of {args.repeat}")
    for label, server in (("postgresql", env.postgres), ("mysql", env.mysql)):
        raw, applied = bench(server.url("admin"), args.rows, args.batch, args.repeat)
        print(
            f"{label:10}  raw executemany {raw:8.0f} rows/s   applier {applied:8.0f} "
            f"rows/s   ratio {applied / raw:.2f}"
        )


if __name__ == "__main__":
    main()
