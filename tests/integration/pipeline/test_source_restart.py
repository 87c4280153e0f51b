"""A source restart under a running bridge, on a private pair of dev servers.

``creditbridge run`` streams NECIPS -> Credit China while the NECIPS (MySQL) server, the
pipeline's *source*, is stopped and started again. Debezium's own heartbeat query
connection died with the server and was never re-opened, so the lag grew for ever and
``/readyz`` stayed 503 until the bridge restarted; the bridge now writes the heartbeat
row itself and reconnects.

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
    CREDIT_CHINA_STAGING,
    NECIPS_SOURCE,
    insert_rows,
    necips_outcome,
    rows_by_key,
)

from bridge.devenv import api
from bridge.devenv.api import DevEnv
from bridge.devenv.home import resolve_home

pytestmark = [pytest.mark.db, pytest.mark.capture, pytest.mark.slow]

PIPELINE = "gsxt-to-xyzg"
MAX_LAG = 4.0
HEARTBEAT_SECONDS = 1.0
EXTERNAL = ("CREDITBRIDGE_PG_URL", "CREDITBRIDGE_MYSQL_URL")
TAG = "SRCRST"
REFUSED_WARNING = "pipeline gsxt-to-xyzg: cannot write its heartbeat into the source"
RECOVERED_INFO = "pipeline gsxt-to-xyzg: heartbeat written into the source again"


@pytest.fixture(scope="module")
def private_env() -> Iterator[DevEnv]:
    """Servers of this module's own, stopped and removed at the end."""
    home = resolve_home() / "test-homes" / f"srcrst-{uuid.uuid4().hex[:8]}"
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
    kept = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBRIDGE_")}
    return {**kept, "CREDITBRIDGE_HOME": str(env.home)}


def _readiness(port: int) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _checks(port: int) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in _readiness(port)[1]["checks"]}


def _status_lag(port: int) -> float:
    url = f"http://127.0.0.1:{port}/api/status"
    with urllib.request.urlopen(url, timeout=10) as response:
        (pipeline,) = json.loads(response.read())["pipelines"]
    return float(pipeline["lag_seconds"])


def _staged(pg: sa.Engine) -> set[str]:
    return set(rows_by_key(pg, CREDIT_CHINA_STAGING, "xf_bh", f"XF-GSXT-{TAG}-"))


def test_lag_and_readiness_recover_after_the_source_restarts(
    private_env: DevEnv, admin: tuple[sa.Engine, sa.Engine], tmp_path: Path
) -> None:
    """Pins: lag stuck and /readyz 503 for ever after the MySQL source restarted."""
    pg, mysql = admin
    config, port = write_run_config(
        tmp_path,
        private_env.home,
        pipelines=(PIPELINE,),
        max_lag_seconds=MAX_LAG,
        heartbeat_seconds=HEARTBEAT_SECONDS,
    )
    process = BridgeProcess(
        config, port, tmp_path, env=_child_environment(private_env)
    ).start()
    try:
        _restart_source(process, port, pg, mysql, private_env)
    finally:
        process.stop()

    output = process.output()
    assert output.count(REFUSED_WARNING) == 1, output[-4000:]
    assert output.count(RECOVERED_INFO) == 1, output[-4000:]


def _restart_source(
    process: BridgeProcess, port: int, pg: sa.Engine, mysql: sa.Engine, env: DevEnv
) -> None:
    process.wait_ready()
    insert_rows(mysql, NECIPS_SOURCE, [necips_outcome(TAG, 1)])
    wait_until(
        lambda: _staged(pg) == {f"XF-GSXT-{TAG}-000001"},
        "the first outcome staged",
        bridge=process,
    )

    api.down(env.home, only="mysql")
    wait_until(
        lambda: not _checks(port)[f"lag:{PIPELINE}"]["ok"],
        "readiness to fail on lag while the source is down",
        timeout=60,
        bridge=process,
    )
    _assert_source_down(port)

    api.ensure_up(env.home)
    after = [necips_outcome(TAG, n) for n in (2, 3)]
    insert_rows(mysql, NECIPS_SOURCE, after)
    wanted = {f"XF-GSXT-{TAG}-00000{n}" for n in (1, 2, 3)}
    wait_until(
        lambda: _readiness(port)[0] == 200
        and _status_lag(port) <= MAX_LAG
        and _staged(pg) == wanted,
        "lag under the bound, readiness and the rows written after the restart",
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


def _assert_source_down(port: int) -> None:
    """``/readyz`` blames the lag and the capture (its source refuses the heartbeat)."""
    code, body = _readiness(port)
    checks = {check["name"]: check for check in body["checks"]}

    assert code == 503
    assert _status_lag(port) > MAX_LAG
    lag = checks[f"lag:{PIPELINE}"]["reason"]
    assert re.fullmatch(
        rf"lag of pipeline {PIPELINE} is \d+\.\d s, over the bound of 4\.0 s", lag
    ), lag
    capture = checks["capture"]["reason"]
    refused = (
        "(2003, \"Can't connect to MySQL server on '127.0.0.1' "
        "([Errno 111] Connection refused)\")"
    )
    assert re.fullmatch(
        rf"pipeline {PIPELINE}: its source has refused the heartbeat for "
        rf"\d+\.\d s \({re.escape(refused)}\)",
        capture,
    ), capture
    assert checks[f"target:{PIPELINE}"] == {"name": f"target:{PIPELINE}", "ok": True}
