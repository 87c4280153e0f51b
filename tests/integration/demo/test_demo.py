"""``creditbridge demo`` end to end: a child process against the local dev servers.

The test holds the demo lock (the end-to-end pipeline tests take it too) from the
run until the demo tables are reset again, and tells the child so: the child would
otherwise wait for the lock its parent holds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.demo.lock import HELD_ENV, demo_lock
from bridge.demo.reset import reset_demo
from bridge.devenv.api import DevEnv

REPO = Path(__file__).resolve().parents[3]
CREDITBRIDGE = Path(sys.executable).parent / "creditbridge"

pytestmark = [pytest.mark.db, pytest.mark.capture, pytest.mark.slow]

# Seed 1 with 200 penalties per registry, plus the day's nine: fixed counts.
SUMMARY = [
    "Summary",
    "  Credit China -> NECIPS: 3 outcomes shared today, 112 from the snapshot",
    "  NECIPS -> Credit China: 5 outcomes shared today, 113 from the snapshot",
    "  dead letters: 1",
    "    XF-XYZG-110000-20251201-0004 UNISCID (from xdr_shxym), not written to NECIPS:",
    "      USCC '91110108MAKFGU0C4F' has check character 'F', but positions 1-17 give "
    "'E'",
    "  filtered: 1 today, 17 from the snapshot",
    "    XF-XYZG-520000-20251201-0005:",
    "      privacy: natural persons' records never cross to NECIPS",
]
AGREEMENT = (
    "  display views agree: yes (on display: Credit China 51 + 6 of natural persons, "
    "NECIPS 51)"
)
WORKED_ROWS = (
    "XF-GSXT-310000-20240615-0001",
    "XF-GSXT-350000-20250210-0003",
    "XF-GSXT-520000-20240902-0042",
)
LATENCY = re.compile(
    r"  latency \(commit to applied\): p50 \d+\.\d\d s, max \d+\.\d\d s over 8 outcomes"
)


@dataclass
class DemoRun:
    result: subprocess.CompletedProcess[str]
    cwd: Path
    worked_rows: dict[str, tuple[Any, ...]]


@pytest.fixture(scope="module")
def demo_run(
    dev_env: DevEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoRun]:
    """One ``creditbridge demo`` run from a scratch directory, and the worked rows as
    staged on Credit China, read before the demo tables are reset again (which also
    drops the slot, so that an idle slot does not hold WAL back)."""
    cwd = tmp_path_factory.mktemp("demo-cwd")
    environment = {**os.environ, HELD_ENV: "1"}
    with demo_lock(dev_env.home):
        try:
            result = subprocess.run(
                [str(CREDITBRIDGE), "demo", "--config", str(REPO / "creditbridge.yaml"),
                 "--pace", "0", "--http-port", "0"],
                cwd=cwd, env=environment, capture_output=True, text=True,
                timeout=600, check=False,
            )
            yield DemoRun(result, cwd, _staged_on_credit_china(dev_env, WORKED_ROWS))
        finally:
            reset_demo(dev_env, REPO / ".creditbridge")


def _staged_on_credit_china(
    env: DevEnv, numbers: tuple[str, ...]
) -> dict[str, tuple[Any, ...]]:
    engine = sa.create_engine(env.postgres.url("admin"), poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT xf_bh, xdr_shxym, cf_wsh_gf, xf_lx, jdfk_bz, xf_jdwh, "
                    "xf_rq, zzgs_sj, sjly, dfbm FROM xyzg.xyxf_jg_gsxt "
                    "WHERE xf_bh = ANY(:numbers)"
                ),
                {"numbers": list(numbers)},
            ).all()
    finally:
        engine.dispose()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_demo_day_ends_with_both_registries_agreeing(demo_run: DemoRun) -> None:
    result = demo_run.result
    lines = result.stdout.splitlines()

    assert result.returncode == 0, result.stdout + result.stderr
    start = lines.index("Summary")
    assert lines[start:start + len(SUMMARY)] == SUMMARY
    assert LATENCY.fullmatch(lines[start + len(SUMMARY)])
    assert lines[start + len(SUMMARY) + 1:] == [
        AGREEMENT, "  steps as expected: 11 of 11", "creditbridge demo: OK"
    ]
    assert list(demo_run.cwd.iterdir()) == []  # nothing written to the working dir


def test_demo_stages_the_worked_rows_of_domain_section_5(demo_run: DemoRun) -> None:
    utc = UTC

    assert demo_run.worked_rows == {
        "XF-GSXT-310000-20240615-0001": (
            "91310115MAF5PJ963C", "沪浦市监处〔2024〕123号", "04", True, None,
            date(2024, 6, 15), datetime(2024, 6, 14, 16, tzinfo=utc), "GSXT",
            "310000",
        ),
        "XF-GSXT-350000-20250210-0003": (
            "91350102MAWPDQNQ9X", "榕鼓市监处〔2024〕517号", "01", False,
            "榕鼓市监信修〔2025〕3号", date(2025, 2, 10),
            datetime(2025, 2, 10, 2, 30, tzinfo=utc), "GSXT", "350000",
        ),
        "XF-GSXT-520000-20240902-0042": (
            "92520102MA8H7LTP12", "南市监处〔2024〕35号", "05", False,
            "南市监撤修〔2024〕42号", date(2024, 9, 2), None, "GSXT", "520000",
        ),
    }


def test_demo_narrates_each_registry_act_in_one_line(demo_run: DemoRun) -> None:
    acts = [line[13:] for line in demo_run.result.stdout.splitlines()
            if re.match(r"^(\d| )\d\. \d\d:\d\d:\d\d ", line)]

    assert acts == [
        "NECIPS: the lower fine of 上海禾青餐饮 expired (REPAIRTYPE 5)",
        "Credit China: early stop of display for 杭州瑞丰科技 (xf_lx 01)",
        "NECIPS: early stop on application for 福州闽味食品 (REPAIRTYPE 4)",
        "Credit China: the lower fine of 苏州汇通商贸 expired (xf_lx 04)",
        "NECIPS: early stop for 贵阳市南明区李记粉面馆 (REPAIRTYPE 4)",
        "Credit China: 3-year display of 武汉恒达建材 ended (xf_lx 04)",
        "NECIPS: withdraws the restoration of 李记粉面馆 (REPAIRTYPE 7)",
        "NECIPS: early stop for 华泰物流, before Credit China publishes",
        "Credit China: early stop for 北京锦程印务, USCC mistyped as …0C4F",
        "Credit China: early stop for a natural person, 王*伟 (xf_lx 01)",
        "Credit China: publishes penalty 粤深市监处〔2025〕88号 of 华泰物流",
    ]
