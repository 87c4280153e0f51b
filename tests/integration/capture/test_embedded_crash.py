"""A capture process killed with SIGKILL in the middle of a batch loses nothing: the
unfinished batch is delivered again after restart. Runs the capture in child
processes (a JVM cannot be restarted inside one process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from capture_support import WAIT_SECONDS, MysqlSource, PgSource

pytestmark = [pytest.mark.db, pytest.mark.capture]

CHILD = Path(__file__).with_name("capture_child.py")
ROWS = 500
BLOCK_AFTER = 151  # the sentinel, then into the second or third batch of <= 100


def spawn(
    source: PgSource | MysqlSource,
    out: Path,
    *,
    home: Path,
    cwd: Path,
    environ: dict[str, str],
    block_after: int = 0,
) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(CHILD), str(source.connector.path), str(home), str(out)]
    if block_after:
        args.append(str(block_after))
    env = {**os.environ, **environ, "CREDITBRIDGE_JVM_HEAP": "256m"}
    return subprocess.Popen(args, cwd=cwd, env=env)


def lines(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def wait_until(
    condition: Callable[[], bool], what: str, child: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"child exited with {child.returncode} before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_SECONDS:.0f} s for {what}")
        time.sleep(0.1)


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_sigkill_mid_batch_redelivers_the_batch_and_loses_nothing(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, environ: dict[str, str]
) -> None:
    columns = "id int PRIMARY KEY, v varchar(20)"
    settings = {"max.batch.size": "100"}
    fixture = "pg_source" if kind == "postgres" else "mysql_source"
    make = request.getfixturevalue(fixture)
    source = make(columns, settings=settings)
    source.execute(f"INSERT INTO {source.qualified} VALUES (0, 'sentinel')")
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    first_out, second_out = tmp_path / "first.jsonl", tmp_path / "second.jsonl"

    places = {"home": home, "cwd": cwd, "environ": environ}
    first = spawn(source, first_out, block_after=BLOCK_AFTER, **places)
    try:
        wait_until(lambda: len(lines(first_out)) >= 1, "the snapshot", first)
        inserts = (
            f"INSERT INTO {source.qualified} VALUES ({i}, 'r{i}')"
            for i in range(1, ROWS + 1)
        )
        source.execute(*inserts)  # one transaction
        wait_until(Path(f"{first_out}.blocked").exists, "the blocked batch", first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    blocked_id = lines(first_out)[-1]["id"]

    second = spawn(source, second_out, **places)
    try:
        wanted = set(range(ROWS + 1))
        wait_until(
            lambda: wanted <= {x["id"] for x in lines(first_out) + lines(second_out)},
            f"all {ROWS} rows after the restart",
            second,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        returncode = second.wait(timeout=60)

    first_ids = [line["id"] for line in lines(first_out)]
    second_ids = [line["id"] for line in lines(second_out)]
    assert first_ids[:1] == [0]
    assert len(first_ids) == BLOCK_AFTER
    # The batch the kill interrupted was never acknowledged, so it comes again.
    assert blocked_id in second_ids
    assert set(first_ids) | set(second_ids) == set(range(ROWS + 1))
    assert {line["op"] for line in lines(second_out)} <= {"c", "r"}
    assert returncode == 0
    # Neither the JVM nor pydbzengine wrote into the working directory.
    assert sorted(os.listdir(cwd)) == []
