"""``creditbridge run --dev`` end to end on the demo systems, as a child process.

Outcomes decided on either registry reach the other's staging table with the values of
DOMAIN.md section 5, exactly once, through kills and restarts, and never loop back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bridge_process import REPO, BridgeProcess, wait_until
from pipeline_rows import (
    CREDIT_CHINA_SOURCE,
    CREDIT_CHINA_STAGING,
    NECIPS_SOURCE,
    NECIPS_STAGING,
    Row,
    count,
    count_keys,
    credit_china_outcome,
    insert_in_batches,
    insert_rows,
    necips_outcome,
    rows_by_key,
)
from worked_rows import CREDIT_CHINA_STAGED, NECIPS_DECIDED

from bridge.map import Mapping, load_mapping

pytestmark = [pytest.mark.db, pytest.mark.capture, pytest.mark.slow]

StartBridge = Callable[..., BridgeProcess]
PIPELINES = ("xyzg-to-gsxt", "gsxt-to-xyzg")

# The same outcomes decided on Credit China instead, each for a penalty of its own.
CREDIT_CHINA_PENALTY_NUMBERS = (
    "沪浦市监处〔2024〕124号",
    "榕鼓市监处〔2024〕78号",
    "南市监处〔2024〕36号",
)


def _credit_china_decided(index: int) -> Row:
    row = dict(CREDIT_CHINA_STAGED[index])
    row["xf_bh"] = row["xf_bh"].replace("XF-GSXT", "XF-XYZG")
    row["cf_wsh_gf"] = CREDIT_CHINA_PENALTY_NUMBERS[index]
    row["sjly"] = "XYZG"
    return row


def _necips_staged(index: int) -> Row:
    """The NECIPS staging row for :func:`_credit_china_decided` (mapping columns)."""
    row = dict(NECIPS_DECIDED[index])
    row["REPAIRNO"] = row["REPAIRNO"].replace("XF-GSXT", "XF-XYZG")
    row["PENDECNO"] = row["PENDECNO_NORM"] = CREDIT_CHINA_PENALTY_NUMBERS[index]
    row["SRCSYS"] = "02"
    return row


def _penalties(numbers: list[tuple[str, str, str]]) -> tuple[list[Row], list[Row]]:
    """Shown penalties on both sides for (USCC, entity name, folded number)."""
    credit_china, necips = [], []
    for n, (uscc, name, number) in enumerate(numbers):
        credit_china.append(
            {
                "cf_xdr_mc": name,
                "cf_xdr_lb": "个体工商户"
                if uscc.startswith("92")
                else "法人及非法人组织",
                "cf_xdr_shxym": uscc,
                "cf_wsh": number,
                "cf_wsh_gf": number,
                "cf_jdrq": date(2024, 5, 1),
                "dfbm": "310000",
                "gs_zt": 1,
            }
        )
        necips.append(
            {
                "CASEID": f"CASE-E2E-{n}",
                "UNISCID": uscc,
                "ENTNAME": name,
                "ENTCATG": 2 if uscc.startswith("92") else 1,
                "PENDECNO": number,
                "PENDECNO_NORM": number,
                "PENDECISSDATE": datetime(2024, 5, 1),
                "PUBSTATE": "A",
                "S_EXT_NODENUM": "310000",
            }
        )
    return credit_china, necips


def _shown(
    pg: sa.Engine, mysql: sa.Engine, numbers: set[str]
) -> tuple[set[str], set[str]]:
    """Which of the penalties *numbers* each display view shows."""
    with pg.connect() as connection:
        query = sa.text("SELECT cf_wsh_gf FROM xyzg.v_xzcf_display")
        credit_china = set(connection.execute(query).scalars()) & numbers
    with mysql.connect() as connection:
        query = sa.text("SELECT PENDECNO_NORM FROM gsxt.V_CASE_DISPLAY")
        necips = set(connection.execute(query).scalars()) & numbers
    return credit_china, necips


def _mapped(row: Row, columns: Any) -> Row:
    return {column: row[column] for column in columns}


def _dead_letters(pg: sa.Engine, mysql: sa.Engine) -> int:
    where = "WHERE pipeline IN ('xyzg-to-gsxt', 'gsxt-to-xyzg')"
    return count(pg, "bridge.dead_letter", where) + count(
        mysql, "bridge.dead_letter", where
    )


def test_worked_outcomes_reach_the_other_side_and_hide_their_penalties(
    bridge: StartBridge, pg: sa.Engine, mysql: sa.Engine
) -> None:
    worked = [(r["UNISCID"], r["ENTNAME"], r["PENDECNO_NORM"]) for r in NECIPS_DECIDED]
    mine = [
        (r["UNISCID"], r["ENTNAME"], number)
        for r, number in zip(NECIPS_DECIDED, CREDIT_CHINA_PENALTY_NUMBERS, strict=True)
    ]
    credit_china_penalties, necips_penalties = _penalties(worked + mine)
    insert_rows(pg, "xyzg.xzcf_gs", credit_china_penalties)
    insert_rows(mysql, "gsxt.E_CASE_PUB", necips_penalties)
    every_number = {number for _, _, number in worked + mine}
    assert _shown(pg, mysql, every_number) == (every_number, every_number)

    process = bridge()
    process.wait_ready()
    insert_rows(mysql, NECIPS_SOURCE, NECIPS_DECIDED)
    insert_rows(pg, CREDIT_CHINA_SOURCE, [_credit_china_decided(i) for i in range(3)])
    expected = [_necips_staged(i) for i in range(3)]
    cc_keys = {r["xf_bh"] for r in CREDIT_CHINA_STAGED}
    necips_keys = {r["REPAIRNO"] for r in expected}
    wait_until(
        lambda: (
            cc_keys <= rows_by_key(pg, CREDIT_CHINA_STAGING, "xf_bh", "XF-").keys()
            and necips_keys
            <= rows_by_key(mysql, NECIPS_STAGING, "REPAIRNO", "XF-").keys()
        ),
        "three staged outcomes on each side",
        bridge=process,
    )

    staged_cc = rows_by_key(pg, CREDIT_CHINA_STAGING, "xf_bh", "XF-")
    assert [
        _mapped(staged_cc[r["xf_bh"]], r) for r in CREDIT_CHINA_STAGED
    ] == CREDIT_CHINA_STAGED
    assert {staged_cc[k]["cb_origin"] for k in cc_keys} == {"GSXT"}
    staged_necips = rows_by_key(mysql, NECIPS_STAGING, "REPAIRNO", "XF-")
    assert [_mapped(staged_necips[r["REPAIRNO"]], r) for r in expected] == expected
    assert {staged_necips[k]["CB_ORIGIN"] for k in necips_keys} == {"XYZG"}

    # Kinds 04 and 01 hide the penalty on both sides; a withdrawal (05) shows it.
    still_shown = {NECIPS_DECIDED[2]["PENDECNO_NORM"], CREDIT_CHINA_PENALTY_NUMBERS[2]}
    assert _shown(pg, mysql, every_number) == (still_shown, still_shown)
    assert _dead_letters(pg, mysql) == 0


def _assert_reverse_equals_source(
    mapping: Mapping, staged: dict[str, Row], source: dict[str, Row]
) -> None:
    """Every staged row, mapped back, equals its source row on the invertible
    columns."""
    assert staged.keys() == source.keys()
    mismatches = []
    for key, row in staged.items():
        back = mapping.reverse(row)
        original = {column: source[key][column] for column in back}
        if back != original:
            mismatches.append((key, back, original))
    assert mismatches[:3] == []


def _mappings() -> tuple[Mapping, Mapping]:
    return (
        load_mapping(REPO / "mappings" / "xyzg_to_gsxt.yaml"),
        load_mapping(REPO / "mappings" / "gsxt_to_xyzg.yaml"),
    )


def _feed_both(
    pg: sa.Engine, mysql: sa.Engine, tag: str, numbers: range, batch: int = 500
) -> None:
    """Insert outcomes *numbers* on both sides at once, *batch* rows per commit."""
    necips = threading.Thread(
        target=insert_in_batches,
        args=(mysql, NECIPS_SOURCE, (necips_outcome(tag, n) for n in numbers), batch),
    )
    necips.start()
    insert_in_batches(
        pg, CREDIT_CHINA_SOURCE, (credit_china_outcome(tag, n) for n in numbers), batch
    )
    necips.join()


def _assert_exactly_once(
    pg: sa.Engine, mysql: sa.Engine, tag: str, expected: int
) -> None:
    """*expected* staged rows each way, one per key, equal to their source rows."""
    xyzg_to_gsxt, gsxt_to_xyzg = _mappings()
    from_necips, from_credit_china = f"XF-GSXT-{tag}-", f"XF-XYZG-{tag}-"
    staged_cc = rows_by_key(pg, CREDIT_CHINA_STAGING, "xf_bh", from_necips)
    staged_necips = rows_by_key(mysql, NECIPS_STAGING, "REPAIRNO", from_credit_china)
    assert count_keys(pg, CREDIT_CHINA_STAGING, "xf_bh", from_necips) == expected
    assert len(staged_cc) == expected
    assert count_keys(mysql, NECIPS_STAGING, "REPAIRNO", from_credit_china) == expected
    assert len(staged_necips) == expected

    _assert_reverse_equals_source(
        gsxt_to_xyzg,
        staged_cc,
        rows_by_key(mysql, NECIPS_SOURCE, "REPAIRNO", from_necips),
    )
    _assert_reverse_equals_source(
        xyzg_to_gsxt,
        staged_necips,
        rows_by_key(pg, CREDIT_CHINA_SOURCE, "xf_bh", from_credit_china),
    )
    assert _dead_letters(pg, mysql) == 0


def _staged_counts(pg: sa.Engine, mysql: sa.Engine, tag: str) -> tuple[int, int]:
    """(rows staged on Credit China, rows staged on NECIPS) of outcomes *tag*."""
    return (
        count_keys(pg, CREDIT_CHINA_STAGING, "xf_bh", f"XF-GSXT-{tag}-"),
        count_keys(mysql, NECIPS_STAGING, "REPAIRNO", f"XF-XYZG-{tag}-"),
    )


def _both_staged(
    pg: sa.Engine, mysql: sa.Engine, tag: str, expected: int
) -> Callable[[], bool]:
    return lambda: _staged_counts(pg, mysql, tag) == (expected, expected)


def test_ten_thousand_outcomes_each_way_arrive_exactly_once(
    bridge: StartBridge, pg: sa.Engine, mysql: sa.Engine
) -> None:
    process = bridge()
    process.wait_ready()

    _feed_both(pg, mysql, "10K", range(10_000), batch=1000)
    wait_until(
        _both_staged(pg, mysql, "10K", 10_000),
        "10,000 outcomes each way",
        bridge=process,
    )

    _assert_exactly_once(pg, mysql, "10K", 10_000)


def test_sigkill_mid_stream_then_restart_loses_and_duplicates_nothing(
    bridge: StartBridge, pg: sa.Engine, mysql: sa.Engine
) -> None:
    first = bridge()
    first.wait_ready()
    _feed_both(pg, mysql, "KILL", range(5000), batch=250)

    wait_until(
        lambda: min(_staged_counts(pg, mysql, "KILL")) > 0,
        "the first staged rows on both sides",
        bridge=first,
    )
    first.kill()
    at_kill = _staged_counts(pg, mysql, "KILL")
    assert min(at_kill) < 5000, f"killed after everything arrived {at_kill}"

    second = bridge()
    wait_until(
        _both_staged(pg, mysql, "KILL", 5000), "5,000 outcomes each way", bridge=second
    )
    _assert_exactly_once(pg, mysql, "KILL", 5000)


def test_connectors_capture_no_staging_table() -> None:
    include = {
        path.name: json.loads(path.read_text("utf-8"))["config"]["table.include.list"]
        for path in sorted((REPO / "connectors").glob("*.json"))
    }

    assert include == {
        "credit-china-outcomes.json": "xyzg.xyxf_jg,bridge.heartbeat",
        "necips-outcomes.json": "gsxt.E_CR_REPAIR,bridge.heartbeat",
    }


def test_outcome_from_the_other_system_is_filtered_not_sent_back(
    bridge: StartBridge, pg: sa.Engine, mysql: sa.Engine
) -> None:
    process = bridge()
    process.wait_ready()

    looped_cc = {**credit_china_outcome("LOOP", 1), "sjly": "GSXT"}
    looped_necips = {**necips_outcome("LOOP", 1), "SRCSYS": "02"}
    insert_rows(pg, CREDIT_CHINA_SOURCE, [looped_cc])
    insert_rows(mysql, NECIPS_SOURCE, [looped_necips])
    # Later commits of the same source: once they are staged, the looped rows before
    # them have been through the pipeline too.
    insert_rows(pg, CREDIT_CHINA_SOURCE, [credit_china_outcome("LOOP", 2)])
    insert_rows(mysql, NECIPS_SOURCE, [necips_outcome("LOOP", 2)])
    wait_until(
        _both_staged(pg, mysql, "LOOP", 1),
        "the second outcome on each side",
        bridge=process,
    )

    assert rows_by_key(mysql, NECIPS_STAGING, "REPAIRNO", "XF-XYZG-LOOP-").keys() == {
        "XF-XYZG-LOOP-000002"
    }
    assert rows_by_key(pg, CREDIT_CHINA_STAGING, "xf_bh", "XF-GSXT-LOOP-").keys() == {
        "XF-GSXT-LOOP-000002"
    }
    assert _dead_letters(pg, mysql) == 0
    # Staged rows are never captured, so nothing reached the other natives either.
    assert count(pg, CREDIT_CHINA_SOURCE) == 2
    assert count(mysql, NECIPS_SOURCE) == 2


def test_sigterm_stops_gracefully_and_restart_resumes(
    bridge: StartBridge, pg: sa.Engine, mysql: sa.Engine
) -> None:
    first = bridge()
    first.wait_ready()
    _feed_both(pg, mysql, "TERM", range(1))
    wait_until(
        _both_staged(pg, mysql, "TERM", 1), "the first outcome each way", bridge=first
    )

    first.terminate()
    assert first.wait_exit(timeout=15) == 0
    assert "bridge stopped" in first.output()

    _feed_both(pg, mysql, "TERM", range(1, 101))
    second = bridge()
    wait_until(
        _both_staged(pg, mysql, "TERM", 101), "101 outcomes each way", bridge=second
    )
    _assert_exactly_once(pg, mysql, "TERM", 101)


def test_start_refuses_a_mapping_that_does_not_match_the_live_schema(
    bridge: StartBridge, tmp_path: Path
) -> None:
    original = (REPO / "mappings" / "xyzg_to_gsxt.yaml").read_text("utf-8")
    broken = tmp_path / "xyzg_to_gsxt.yaml"
    broken.write_text(
        original.replace(
            "ENTNAME: {from: xdr_mc}", "ENTNAME: {from: xdr_mingcheng}"
        ).replace("REPDECNO: {from: xf_jdwh}", "REPDECNO: {from: xf_jdwh_x}"),
        "utf-8",
    )

    process = bridge(mappings={"xyzg-to-gsxt": broken})

    assert process.wait_exit() == 1
    failure = process.output()[process.output().index("FAILED:") :]
    assert failure == (
        "FAILED: the bridge did not start; fix these problems and start again:\n"
        "pipeline xyzg-to-gsxt:\n"
        f"  {broken}:30:13: columns.ENTNAME.from: unknown source column "
        "xdr_mingcheng; xyzg.xyxf_jg has no such column\n"
        f"  {broken}:43:14: columns.REPDECNO.from: unknown source column "
        "xf_jdwh_x; xyzg.xyxf_jg has no such column (did you mean xf_jdwh?)\n"
    )
