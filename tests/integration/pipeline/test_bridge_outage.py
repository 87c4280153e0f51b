"""The operator's view of a target outage, on a private pair of dev servers.

``creditbridge run`` streams Credit China -> NECIPS while the NECIPS (MySQL) server is
stopped and started again: the lag gauge, ``/api/status`` and ``/readyz`` show the
outage and its end, the rows written meanwhile arrive, the counters count them, and
no log line of the whole run shows a password or a natural person's ID number.

The servers are this module's own (``ensure_up`` with a home of its own): stopping
the shared ones would break other people's tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bridge_process import BridgeProcess, wait_until, write_run_config
from pipeline_rows import (
    CREDIT_CHINA_SOURCE,
    NECIPS_STAGING,
    Row,
    count,
    credit_china_outcome,
    insert_rows,
    rows_by_key,
)
from prometheus_client.parser import text_string_to_metric_families

from bridge.devenv import api
from bridge.devenv.api import DevEnv
from bridge.devenv.home import load_secrets, resolve_home
from bridge.observe.logging import mask_id_number

pytestmark = [pytest.mark.db, pytest.mark.capture, pytest.mark.slow]

PIPELINE = "xyzg-to-gsxt"
MAX_LAG = 4.0
HEARTBEAT_SECONDS = 1.0
EXTERNAL = ("CREDITBRIDGE_PG_URL", "CREDITBRIDGE_MYSQL_URL")
LAG = "creditbridge_end_to_end_lag_seconds"
# A natural person's ID number (check digit valid): the privacy rule keeps the row
# on Credit China, and no log may show it.
ID_NUMBER = "11010519491231002X"
# Check character should be 'E' (see the demo's dead letter): a dead letter.
BAD_USCC = "91110108MAKFGU0C4F"
OUTAGE_ROWS = 5


@pytest.fixture(scope="module")
def private_env() -> Iterator[DevEnv]:
    """Servers of this module's own, stopped and removed at the end."""
    # Inside the shared home: the service user can traverse it (pytest's tmp is 0700).
    home = resolve_home() / "test-homes" / f"outage-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        for name in EXTERNAL:
            patch.delenv(name, raising=False)
        try:
            yield api.ensure_up(home)
        finally:
            api.down(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def admin(private_env: DevEnv) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """(Credit China, NECIPS) as their admins on the private servers."""
    pg = sa.create_engine(private_env.postgres.url("admin"), poolclass=sa.NullPool)
    mysql = sa.create_engine(private_env.mysql.url("admin"), poolclass=sa.NullPool)
    yield pg, mysql
    pg.dispose()
    mysql.dispose()


def _child_environment(env: DevEnv) -> dict[str, str]:
    """This environment pointed at the private home, with no shared server's URL."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBRIDGE_")}
    return {**kept, "CREDITBRIDGE_HOME": str(env.home)}


def _get(port: int, path: str) -> tuple[int, bytes]:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _readiness(port: int) -> tuple[int, dict[str, Any]]:
    code, body = _get(port, "/readyz")
    return code, json.loads(body)


def _samples(port: int, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric *name* on ``/metrics`` by sorted label pairs."""
    _, body = _get(port, "/metrics")
    found = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _heartbeat_lag(port: int) -> float:
    key = (("pipeline", PIPELINE), ("table", "bridge.heartbeat"))
    return _samples(port, LAG)[key]


def _status_lag(port: int) -> float:
    _, body = _get(port, "/api/status")
    (pipeline,) = json.loads(body)["pipelines"]
    assert pipeline["name"] == PIPELINE
    return float(pipeline["lag_seconds"])


def _checks(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in body["checks"]}


def _natural_person(tag: str) -> Row:
    row = credit_china_outcome(tag, 0)
    row.update(xdr_lb="自然人", xdr_shxym=None, xdr_zjhm=ID_NUMBER, xdr_mc="张三")
    return row


def _bad_uscc(tag: str) -> Row:
    """A dead letter whose raw record carries an ID number (the operator's)."""
    row = credit_china_outcome(tag, 1)
    return {**row, "xdr_shxym": BAD_USCC, "xdr_zjhm": ID_NUMBER}


def _staged(mysql: sa.Engine, tag: str) -> set[str]:
    try:
        return set(rows_by_key(mysql, NECIPS_STAGING, "REPAIRNO", f"XF-XYZG-{tag}-"))
    except sa.exc.OperationalError:
        return set()


def _dead_letters(mysql: sa.Engine) -> int:
    return count(mysql, "bridge.dead_letter", "WHERE pipeline = :p", p=PIPELINE)


def test_target_outage_shows_in_lag_and_readiness_and_loses_nothing(
    private_env: DevEnv,
    admin: tuple[sa.Engine, sa.Engine],
    tmp_path: Path,
) -> None:
    pg, mysql = admin
    config, port = write_run_config(
        tmp_path,
        private_env.home,
        pipelines=(PIPELINE,),
        max_lag_seconds=MAX_LAG,
        heartbeat_seconds=HEARTBEAT_SECONDS,
    )
    process = BridgeProcess(
        config, port, tmp_path,
        env=_child_environment(private_env), args=("--log-level", "DEBUG"),
    ).start()
    try:
        _outage_and_recovery(process, port, pg, mysql, private_env)
    finally:
        process.stop()
    _assert_no_secret_in_logs(process, private_env)


def _outage_and_recovery(
    process: BridgeProcess, port: int, pg: sa.Engine, mysql: sa.Engine, env: DevEnv
) -> None:
    process.wait_ready()
    tag = "OUT"
    before = [credit_china_outcome(tag, 2), _natural_person(tag), _bad_uscc(tag)]
    insert_rows(pg, CREDIT_CHINA_SOURCE, before)
    wait_until(
        lambda: _staged(mysql, tag) == {f"XF-XYZG-{tag}-000002"}
        and _dead_letters(mysql) == 1,
        "the first outcome staged and one dead letter",
        bridge=process,
    )

    api.down(env.home, only="mysql")
    wait_until(
        lambda: _readiness(port)[0] == 503
        and not _checks(_readiness(port)[1])[f"lag:{PIPELINE}"]["ok"],
        "readiness to fail on lag",
        timeout=60,
        bridge=process,
    )
    _assert_unready(port, env)
    assert _heartbeat_lag(port) > MAX_LAG
    assert _status_lag(port) > MAX_LAG

    during = [credit_china_outcome(tag, n) for n in range(10, 10 + OUTAGE_ROWS)]
    insert_rows(pg, CREDIT_CHINA_SOURCE, during)
    api.ensure_up(env.home)
    wanted = {f"XF-XYZG-{tag}-000002"} | {r["xf_bh"] for r in during}
    wait_until(
        lambda: _readiness(port)[0] == 200
        and _heartbeat_lag(port) <= MAX_LAG
        and _status_lag(port) <= MAX_LAG
        and _staged(mysql, tag) == wanted,
        "lag under the bound, readiness and every outcome after the outage",
        timeout=90,
        bridge=process,
    )

    assert _readiness(port) == (
        200,
        {
            "ready": True,
            "checks": [
                {"name": "capture", "ok": True},
                {"name": f"lag:{PIPELINE}", "ok": True},
                {"name": f"target:{PIPELINE}", "ok": True},
            ],
        },
    )
    # The natural person is filtered and the bad USCC dead-lettered: not applied.
    _assert_counted(port, mysql, len(before) - 2 + OUTAGE_ROWS)
    captured = _samples(port, "creditbridge_events_captured_total")
    labels = (("operation", "create"), ("pipeline", PIPELINE), ("table", "xyxf_jg"))
    assert captured == {labels: float(len(before) + OUTAGE_ROWS)}
    _assert_debeziums_figures(port)


def _assert_debeziums_figures(port: int) -> None:
    """Debezium's own streaming gauges, read from the engine in the bridge's JVM."""
    pipeline = (("pipeline", PIPELINE),)
    # The shipped connector file leaves max.queue.size at Debezium's 8192.
    assert _samples(port, "creditbridge_source_queue_capacity") == {pipeline: 8192.0}
    remaining = _samples(port, "creditbridge_source_queue_remaining")[pipeline]
    assert 0 <= remaining <= 8192
    behind = _samples(port, "creditbridge_source_millis_behind")[pipeline]
    assert 0 <= behind < 90_000


def _assert_unready(port: int, env: DevEnv) -> None:
    """``/readyz`` names the lag and the target checks, with their reasons."""
    code, body = _readiness(port)
    checks = _checks(body)

    assert code == 503
    assert body["ready"] is False
    assert list(checks) == ["capture", f"lag:{PIPELINE}", f"target:{PIPELINE}"]
    assert checks["capture"] == {"name": "capture", "ok": True}
    lag = checks[f"lag:{PIPELINE}"]["reason"]
    assert re.fullmatch(
        rf"lag of pipeline {PIPELINE} is \d+\.\d s, over the bound of 4\.0 s", lag
    ), lag
    writer = env.mysql.writer.user
    where = f"mysql+pymysql://{writer}:***@127.0.0.1:{env.mysql.port}/gsxt"
    assert checks[f"target:{PIPELINE}"]["reason"] == (
        f"cannot reach {where}?charset=utf8mb4: (2003, \"Can't connect to MySQL "
        f"server on '127.0.0.1' ([Errno 111] Connection refused)\")"
    )


def _assert_counted(port: int, mysql: sa.Engine, written: int) -> None:
    """Every row written counted once as applied; the bad USCC as a dead letter."""
    applied = _samples(port, "creditbridge_events_applied_total")
    dead = _samples(port, "creditbridge_dead_letters_total")

    labels = (("operation", "create"), ("pipeline", PIPELINE), ("table", "xyxf_jg"))
    assert applied == {labels: float(written)}
    assert dead == {(("pipeline", PIPELINE), ("table", "xyxf_jg")): 1.0}
    assert _dead_letters(mysql) == 1


def _assert_no_secret_in_logs(process: BridgeProcess, env: DevEnv) -> None:
    """No password of the instance and no ID number, in any log of the run."""
    logs = {str(process.log_path): process.output()}
    for path in sorted((env.home / "logs").rglob("*")):
        if path.is_file():
            logs[str(path)] = path.read_text("utf-8", errors="replace")
    passwords = set(load_secrets(env.home).values())

    assert "bridge stopped" in logs[str(process.log_path)]
    leaks = [
        (name, secret)
        for name, text in logs.items()
        for secret in passwords | {ID_NUMBER}
        if secret in text
    ]
    assert leaks == []
    unmasked = [name for name, text in logs.items() if mask_id_number(text) != text]
    assert unmasked == []
