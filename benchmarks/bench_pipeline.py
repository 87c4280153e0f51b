"""The whole pipeline against Debezium alone, then latency and memory at 1,000 rows/s.

Per direction (Credit China -> NECIPS, NECIPS -> Credit China), each in a fresh child
process because a process holds one JVM:

1. raw: embedded Debezium with a handler that only counts, N rows streamed;
2. full: the bridge's decode + map + apply on the same N rows (one pipeline);
3. latency: the full bridge while a feeder commits 100 rows every 100 ms; each row's
   latency is its staging row's applied time minus the feeder's commit time. The
   child's peak RSS is that one pipeline's memory.

Throughput counts from the first insert to the last row handled, so both runs include
the same insert time. The demo tables are reset (under the demo lock) before each run.

Run:  .venv/bin/python benchmarks/bench_pipeline.py [--rows 20000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration" / "pipeline"))

from bridge_process import write_run_config  # noqa: E402
from pipeline_rows import (  # noqa: E402
    CREDIT_CHINA_SOURCE,
    CREDIT_CHINA_STAGING,
    NECIPS_SOURCE,
    NECIPS_STAGING,
    credit_china_outcome,
    insert_rows,
    necips_outcome,
)

from bridge.devenv.model import DevEnv  # noqa: E402

log = logging.getLogger("bench_pipeline")


@dataclass(frozen=True)
class Direction:
    pipeline: str
    connector: str
    topic: str  # Debezium topic of the native outcome table
    source_table: str
    staging_table: str
    staging_key: str
    applied_column: str
    source_side: str  # "postgres" or "mysql"

    def row(self, n: int) -> dict[str, Any]:
        if self.source_side == "postgres":
            return credit_china_outcome("BENCH", n)
        return necips_outcome("BENCH", n)


DIRECTIONS = (
    Direction(
        "xyzg-to-gsxt",
        "credit-china-outcomes",
        "creditchina.xyzg.xyxf_jg",
        CREDIT_CHINA_SOURCE,
        NECIPS_STAGING,
        "REPAIRNO",
        "CB_APPLIED_AT",
        "postgres",
    ),
    Direction(
        "gsxt-to-xyzg",
        "necips-outcomes",
        "necips.gsxt.E_CR_REPAIR",
        NECIPS_SOURCE,
        CREDIT_CHINA_STAGING,
        "xf_bh",
        "cb_applied_at",
        "mysql",
    ),
)
BY_NAME = {d.pipeline: d for d in DIRECTIONS}


# --- child processes --------------------------------------------------------------


def _memory() -> dict[str, float]:
    """Peak and current resident set size of this process, in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0]) / 1024
    return {"rss_peak_mb": values["VmHWM"], "rss_mb": values["VmRSS"]}


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads so far, by thread name (digits
    dropped, so a pool of GC or compiler threads is one entry)."""
    ticks = os.sysconf("SC_CLK_TCK")
    spent: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        group = re.sub(r"[-#]?\d+", "", name).strip() or name
        user, system = int(fields[11]), int(fields[12])
        spent[group] = spent.get(group, 0.0) + (user + system) / ticks
    return spent


def _cpu_since(before: dict[str, float]) -> dict[str, float]:
    """Thread CPU seconds since *before*, largest first; under 0.1 s left out."""
    now = _thread_cpu()
    spent = {name: now[name] - before.get(name, 0.0) for name in now}
    top = sorted(spent.items(), key=lambda item: -item[1])
    return {name: round(seconds, 2) for name, seconds in top if seconds >= 0.1}


def _report(**values: Any) -> None:
    print(json.dumps(values), flush=True)


def _measure(
    count: Callable[[], int],
    warmup: int,
    rows: int,
    check: Callable[[], None] = lambda: None,
    spent: dict[str, float] | None = None,
) -> None:
    """Report "warm" once *warmup* rows have arrived, "done" after *rows* more.

    The JVM compiles its hot code during the first tens of thousands of records (its
    compiler threads then take most of a core), so the measured rows come after the
    warm-up ones: the rate is the sustained one.
    """
    while count() < warmup:
        check()
        time.sleep(0.005)
    if spent is not None:
        spent.update(dict.fromkeys(spent, 0.0))
    threads = _thread_cpu()
    cpu = time.process_time()
    _report(event="warm")
    while count() < warmup + rows:
        check()
        time.sleep(0.005)
    last = time.monotonic()
    _report(
        event="done",
        last=last,
        count=count() - warmup,
        process_cpu=time.process_time() - cpu,
        threads=_cpu_since(threads),
        **(spent or {}),
        **_memory(),
    )


def child_raw(direction: Direction, rows: int, warmup: int, home: Path) -> None:
    """Debezium alone: count the outcome rows as they arrive."""
    from bridge.capture.connectors import load_connector
    from bridge.capture.embedded import CaptureSource, EmbeddedCapture, EngineState
    from bridge.capture.jvm import JvmOptions
    from bridge.cli.run import use_dev_environment

    use_dev_environment()  # the connector file's ${env:...} settings
    seen = 0

    def count(records: Sequence[Any]) -> None:
        nonlocal seen
        seen += sum(1 for r in records if r.topic == direction.topic)

    connector = load_connector(REPO / "connectors" / f"{direction.connector}.json")
    jvm = JvmOptions.from_environment(heap="512m", crash_dir=home / "logs")
    capture = EmbeddedCapture([CaptureSource(connector, count)], home=home, jvm=jvm)
    capture.start()
    try:
        while not all(s is EngineState.STREAMING for s in capture.states.values()):
            capture.raise_if_failed()
            time.sleep(0.05)
        _report(event="ready")
        _measure(lambda: seen, warmup, rows, capture.raise_if_failed)
    finally:
        capture.stop()


def child_full(
    direction: Direction, rows: int, warmup: int, home: Path, workdir: Path
) -> None:
    """The bridge's pipeline: count the outcome rows applied."""
    from bridge.cli.run import use_dev_environment
    from bridge.pipeline.config import load_run_config
    from bridge.pipeline.runner import Bridge, prepare

    use_dev_environment()
    path, _ = write_run_config(workdir, home, pipelines=(direction.pipeline,))
    bridge = prepare(load_run_config(path))
    spent = _time_the_stages(bridge.pipelines[0].direction)

    def when_streaming(running: Bridge) -> None:
        totals = running.pipelines[0].direction.totals
        _report(event="ready")
        _measure(lambda: totals.applied, warmup, rows, spent=spent)
        running.request_stop()

    bridge.run(on_ready=when_streaming)


def _time_the_stages(direction: Any) -> dict[str, float]:
    """Wrap the handler and its decode + map step with timers (seconds spent)."""
    spent = {"handler": 0.0, "decode_map": 0.0, "batches": 0.0}

    def timed(name: str, step: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return step(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
                if name == "handler":
                    spent["batches"] += 1

        return wrapper

    direction.apply = timed("handler", direction.apply)
    direction.map_records = timed("decode_map", direction.map_records)
    return spent


# --- the parent -------------------------------------------------------------------


class Child:
    """A benchmark child process speaking one JSON object per line on stdout."""

    def __init__(
        self, mode: str, direction: Direction, rows: int, warmup: int, home: Path
    ) -> None:
        workdir = home / "bench"
        workdir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            mode,
            "--pipeline",
            direction.pipeline,
            "--rows",
            str(rows),
            "--warmup",
            str(warmup),
            "--home",
            str(home),
        ]
        self.process = subprocess.Popen(
            command, cwd=workdir, stdout=subprocess.PIPE, text=True
        )

    def expect(self, event: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                message: dict[str, Any] = json.loads(line)
                if message.get("event") == event:
                    return message
        raise RuntimeError(f"child ended before reporting {event!r}")

    def finish(self) -> None:
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait()


def _engine(env: DevEnv, side: str) -> sa.Engine:
    server = env.postgres if side == "postgres" else env.mysql
    return sa.create_engine(server.url("admin"), poolclass=sa.NullPool)


def _target(env: DevEnv, direction: Direction) -> sa.Engine:
    return _engine(env, "mysql" if direction.source_side == "postgres" else "postgres")


def insert_all(
    engine: sa.Engine, direction: Direction, numbers: range, batch: int = 1000
) -> None:
    """Insert the rows numbered *numbers* in transactions of *batch* rows."""
    for start in range(numbers.start, numbers.stop, batch):
        chunk = range(start, min(start + batch, numbers.stop))
        insert_rows(engine, direction.source_table, [direction.row(n) for n in chunk])


def warm_up(child: Child, source: sa.Engine, direction: Direction, warmup: int) -> None:
    """Stream *warmup* rows through the child and wait until it has handled them."""
    child.expect("ready")
    insert_all(source, direction, range(warmup))
    child.expect("warm")


def throughput(
    env: DevEnv, mode: str, direction: Direction, rows: int, warmup: int
) -> dict[str, Any]:
    """Rows per second from the first measured insert to the last row handled."""
    child = Child(mode, direction, rows, warmup, env.home)
    source = _engine(env, direction.source_side)
    try:
        warm_up(child, source, direction, warmup)
        started, machine = time.monotonic(), _machine_cpu()
        servers, feeder = _servers_cpu(env), time.process_time()
        insert_all(source, direction, range(warmup, warmup + rows))
        done = child.expect("done")
        busy = _machine_busy(machine)
        servers = _servers_cpu(env, since=servers)
        feeder = time.process_time() - feeder
    finally:
        child.finish()
        source.dispose()
    seconds = done["last"] - started
    cpu_per_row = {
        "bridge process": done["process_cpu"],
        "source database": servers[direction.source_side],
        "target database": servers[_other(direction.source_side)],
        "feeder": feeder,
    }
    return {
        "rate": rows / seconds,
        "seconds": seconds,
        "machine_busy": busy,
        "cpu_us_per_row": {k: v / rows * 1e6 for k, v in cpu_per_row.items()},
        **done,
    }


def _other(side: str) -> str:
    return "mysql" if side == "postgres" else "postgres"


def _servers_cpu(
    env: DevEnv, since: dict[str, float] | None = None
) -> dict[str, float]:
    """CPU seconds the local database servers used (since *since*), by side.

    A server's CPU is its processes' own: mysqld's threads; the postmaster, its live
    children (backends, WAL sender) and the children it has reaped.
    """
    from bridge.devenv.api import status

    pids = {server.kind: server.pid for server in status(env.home)}
    used = {
        "postgres": _tree_cpu(pids.get("postgresql")),
        "mysql": _tree_cpu(pids.get("mysql")),
    }
    if since is not None:
        used = {side: seconds - since[side] for side, seconds in used.items()}
    return used


def _tree_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()
        own, parent = int(stat.parent.name), int(fields[1])
        if own == pid:
            # utime, stime and the reaped children's cutime, cstime
            total += sum(int(value) for value in fields[11:15])
        elif parent == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _machine_cpu() -> tuple[int, int]:
    """Busy and total jiffies of all cores since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def _machine_busy(before: tuple[int, int]) -> float:
    """The share of all cores' time that was busy since *before* (0 to 1): the
    whole machine, databases and feeder included."""
    busy, total = _machine_cpu()
    return (busy - before[0]) / max(total - before[1], 1)


def latency(
    env: DevEnv, direction: Direction, rate: int, seconds: int, warmup: int
) -> dict[str, Any]:
    """Commit-to-apply latency while feeding *rate* rows/s in 100 ms ticks."""
    per_tick = rate // 10
    ticks = seconds * 10
    rows = per_tick * ticks
    child = Child("full", direction, rows, warmup, env.home)
    source = _engine(env, direction.source_side)
    committed: dict[str, float] = {}
    try:
        warm_up(child, source, direction, warmup)
        committed = _feed(source, direction, warmup, per_tick, ticks)
        done = child.expect("done")
    finally:
        child.finish()
        source.dispose()
    waits = _applied_minus_committed(env, direction, committed)
    return {
        "rows": rows,
        "p50_ms": statistics.median(waits) * 1000,
        "p99_ms": statistics.quantiles(waits, n=100)[98] * 1000,
        "max_ms": max(waits) * 1000,
        **done,
    }


def _feed(
    engine: sa.Engine, direction: Direction, first: int, per_tick: int, ticks: int
) -> dict[str, float]:
    """Commit *per_tick* rows every 100 ms; the wall-clock commit time of each key."""
    committed: dict[str, float] = {}
    key = "xf_bh" if direction.source_side == "postgres" else "REPAIRNO"
    next_tick = time.monotonic()
    for tick in range(ticks):
        start = first + tick * per_tick
        rows = [direction.row(n) for n in range(start, start + per_tick)]
        insert_rows(engine, direction.source_table, rows)
        # Wall clock: the bridge stamps its applied time with the wall clock too.
        now = time.time()
        committed.update((row[key], now) for row in rows)
        next_tick += 0.1
        time.sleep(max(0.0, next_tick - time.monotonic()))
    return committed


def _applied_minus_committed(
    env: DevEnv, direction: Direction, committed: dict[str, float]
) -> list[float]:
    target = _target(env, direction)
    query = sa.text(
        f"SELECT {direction.staging_key}, {direction.applied_column} "
        f"FROM {direction.staging_table}"
    )
    try:
        with target.connect() as connection:
            rows = connection.execute(query).all()
        applied: dict[str, datetime] = {key: moment for key, moment in rows}
    finally:
        target.dispose()
    waits = []
    for key, commit_time in committed.items():
        moment: datetime = applied[key]
        if moment.tzinfo is None:  # MySQL DATETIME(6) holding UTC
            moment = moment.replace(tzinfo=UTC)
        waits.append(moment.timestamp() - commit_time)
    return waits


@contextmanager
def fresh_demo(env: DevEnv) -> Iterator[None]:
    from bridge.demo.reset import reset_demo

    reset_demo(env, env.home)
    try:
        yield
    finally:
        reset_demo(env, env.home)


STAGES = ("raw", "full", "latency")


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run_benchmarks(
    rows: int,
    rate: int,
    seconds: int,
    names: Sequence[str],
    stages: Sequence[str] = STAGES,
    *,
    warmup: int = 20_000,
) -> None:
    from bridge.demo.lock import demo_lock
    from bridge.devenv.api import ensure_up

    env = ensure_up()
    print(
        f"bench_pipeline {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {rows} rows "
        f"after {warmup} warm-up rows, load average {_load()}"
    )
    with demo_lock(env.home):
        for name in names:
            direction = BY_NAME[name]
            results: dict[str, dict[str, Any]] = {}
            for stage in stages:
                with fresh_demo(env):
                    if stage == "latency":
                        results[stage] = latency(env, direction, rate, seconds, warmup)
                    else:
                        results[stage] = throughput(env, stage, direction, rows, warmup)
                log.info("%s %s: %s", name, stage, results[stage])
            _print(direction, results, rate)


def _print(direction: Direction, results: dict[str, dict[str, Any]], rate: int) -> None:
    print(f"\n{direction.pipeline}")
    raw, full, lag = (results.get(stage) for stage in STAGES)
    if raw is not None:
        print(f"  Debezium alone  {raw['rate']:8.0f} rows/s  ({raw['seconds']:.2f} s)")
    if full is not None:
        print(
            f"  full pipeline   {full['rate']:8.0f} rows/s  ({full['seconds']:.2f} s)"
        )
    if raw is not None:
        print(f"    process CPU {raw['process_cpu']:.2f} s")
    if full is not None:
        handler, decode_map = full["handler"], full["decode_map"]
        print(
            f"    in the handler {handler:.2f} s over {full['batches']:.0f} batches: "
            f"decode+map {decode_map:.2f} s, apply {handler - decode_map:.2f} s; "
            f"process CPU {full['process_cpu']:.2f} s"
        )
    for stage, result in (("Debezium alone", raw), ("full pipeline", full)):
        if result is not None:
            busiest = ", ".join(f"{n} {s:.1f}" for n, s in result["threads"].items())
            print(f"    CPU s by thread, {stage}: {busiest}")
            print(
                f"    machine CPU busy, {stage}: {result['machine_busy']:.0%} of "
                f"{os.cpu_count()} cores"
            )
    for stage, result in (("Debezium alone", raw), ("full pipeline", full)):
        if result is not None:
            shares = ", ".join(
                f"{name} {us:.0f}" for name, us in result["cpu_us_per_row"].items()
            )
            total = sum(result["cpu_us_per_row"].values())
            print(f"    CPU us per row, {stage}: {shares}; in all {total:.0f}")
    if raw is not None and full is not None:
        ratio = full["rate"] / raw["rate"]
        print(f"  ratio           {ratio:8.2f}   (goal >= 0.90)")
    if lag is not None:
        print(
            f"  latency at {rate} rows/s over {lag['rows']} rows: "
            f"p50 {lag['p50_ms']:.0f} ms, p99 {lag['p99_ms']:.0f} ms, "
            f"max {lag['max_ms']:.0f} ms   (goal p50 <= 300, p99 <= 1000)"
        )
        print(
            f"  peak RSS of the one-pipeline bridge process: "
            f"{lag['rss_peak_mb']:.0f} MB (goal <= 512 MB)"
        )
    if raw is not None:
        print(f"  peak RSS of Debezium alone: {raw['rss_peak_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--warmup", type=int, default=20_000, help="rows streamed before measuring"
    )
    parser.add_argument("--rate", type=int, default=1000, help="latency feed rows/s")
    parser.add_argument("--seconds", type=int, default=30, help="latency feed time")
    parser.add_argument("--pipeline", choices=sorted(BY_NAME), action="append")
    parser.add_argument("--stage", choices=STAGES, action="append")
    parser.add_argument("--child", choices=("raw", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.child is not None:
        direction = BY_NAME[args.pipeline[0]]
        if args.child == "raw":
            child_raw(direction, args.rows, args.warmup, args.home)
        else:
            child_full(
                direction, args.rows, args.warmup, args.home, args.home / "bench"
            )
        return
    run_benchmarks(
        args.rows,
        args.rate,
        args.seconds,
        args.pipeline or list(BY_NAME),
        args.stage or STAGES,
        warmup=args.warmup,
    )


if __name__ == "__main__":
    main()
