"""The verdict on one outcome: the demo mapping's expected row against a staged row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.map import load_mapping
from bridge.map.preview import preview_row
from bridge.reconcile.compare import (
    OpenDeadLetter,
    OutcomeCheck,
    SourceOutcome,
    StagedRow,
    ValueDifference,
    Verdict,
    check_outcome,
    same_value,
    shown,
)

MAPPING = load_mapping(
    Path(__file__).resolve().parents[3] / "mappings" / "xyzg_to_gsxt.yaml"
)
BEIJING = timezone(timedelta(hours=8))

# Credit China outcome decided 2026-02-13 10:00 Beijing, the Friday before the
# Spring Festival of 2026 (15-23 February off, Saturday 14 worked).
SOURCE = {
    "xf_bh": "XF-UNIT-1",
    "xdr_mc": "上海测试有限公司",
    "xdr_lb": "法人及非法人组织",
    "xdr_shxym": "91310115MAF5PJ963C",
    "xdr_zjhm": None,
    "cf_wsh_gf": "沪浦市监处〔2025〕12号",
    "xf_lx": "01",
    "jdfk_bz": False,
    "xf_jdwh": "沪浦市监信修〔2026〕3号",
    "xf_rq": date(2026, 2, 13),
    "xf_jdsj": datetime(2026, 2, 13, 2, 0, tzinfo=UTC),
    "xf_dw": "上海市浦东新区市场监督管理局",
    "xf_dwdm": "914403001922038216",
    "zzgs_sj": datetime(2026, 2, 13, 2, 0, tzinfo=UTC),
    "sjly": "XYZG",
    "dfbm": "310000",
    "gxsj": datetime(2026, 2, 13, 2, 0, 5, tzinfo=UTC),
}
# What MySQL gives back for the staged row: naive Beijing wall-clock time.
STAGED = {
    "REPAIRNO": "XF-UNIT-1",
    "UNISCID": "91310115MAF5PJ963C",
    "ENTNAME": "上海测试有限公司",
    "REPAIRTYPE": 4,
    "PENDECNO": "沪浦市监处〔2025〕12号",
    "PENDECNO_NORM": "沪浦市监处〔2025〕12号",
    "REPDECNO": "沪浦市监信修〔2026〕3号",
    "REPDECORG_CN": "上海市浦东新区市场监督管理局",
    "REPDECORG_USCC": "914403001922038216",
    "REPDATE": datetime(2026, 2, 13),
    "REPDECTIME": datetime(2026, 2, 13, 10, 0),
    "STOPPUBTIME": datetime(2026, 2, 13, 10, 0),
    "SRCSYS": "02",
    "S_EXT_NODENUM": "310000",
    "CB_ORIGIN": "XYZG",
    "CB_SRC_POSITION": '{"lsn": 1}',
    "CB_SRC_COMMIT_TS": datetime(2026, 2, 13, 2, 0, 5),
    "CB_APPLIED_AT": datetime(2026, 2, 13, 2, 0, 6),
    "CB_DELETED_AT": None,
}
ON_TIME = datetime(2026, 2, 13, 2, 0, 6, tzinfo=UTC)
LETTER = OpenDeadLetter(7, "new", "UNISCID (from xdr_shxym): bad code")
BAD_USCC = (
    "UNISCID (from xdr_shxym): USCC '91310115MAF5PJ963D' has check character 'D', "
    "but positions 1-17 give 'C'"
)


def _check(
    changes: dict[str, Any],
    staged: dict[str, Any] | None,
    *,
    applied_at: datetime | None = ON_TIME,
    deleted_at: datetime | None = None,
    letter: OpenDeadLetter | None = None,
) -> OutcomeCheck:
    source = SourceOutcome(
        "XF-UNIT-1",
        "310000",
        date(2026, 2, 13),
        preview_row(MAPPING, {**SOURCE, **changes}),
    )
    row = None
    if staged is not None:
        row = StagedRow(
            {**STAGED, **staged}, applied_at, "CB_DELETED_AT", deleted_at
        )
    return check_outcome(source, row, letter)


def _outcome(verdict: Verdict, **fields: Any) -> OutcomeCheck:
    return OutcomeCheck("XF-UNIT-1", "310000", verdict, **fields)


CASES = [
    pytest.param({}, {}, {}, _outcome(Verdict.AGREE), id="agrees"),
    pytest.param(
        {},
        {"REPDECTIME": datetime(2026, 2, 13, 10, 0, 0, 1), "REPAIRTYPE": 7},
        {},
        _outcome(
            Verdict.DIFFERS,
            differences=(
                ValueDifference("REPAIRTYPE", "4", "7"),
                ValueDifference(
                    "REPDECTIME", "2026-02-13 10:00:00", "2026-02-13 10:00:00.000001"
                ),
            ),
        ),
        id="differs-by-a-microsecond-and-kind",
    ),
    pytest.param(
        {},
        {"ENTNAME": "上海测试有限公司 "},
        {},
        _outcome(
            Verdict.DIFFERS,
            differences=(
                ValueDifference("ENTNAME", '"上海测试有限公司"', '"上海测试有限公司 "'),
            ),
        ),
        id="a-trailing-space-differs",
    ),
    pytest.param(
        {}, None, {}, _outcome(Verdict.MISSING, detail="no row on the other side"),
        id="missing",
    ),
    pytest.param(
        {"xdr_lb": "自然人", "xdr_shxym": None, "xdr_zjhm": "520102199001013128"},
        None,
        {},
        _outcome(
            Verdict.FILTERED,
            detail="privacy: natural persons' records never cross to NECIPS",
        ),
        id="natural-person-filtered",
    ),
    pytest.param(
        {"sjly": "GSXT"},
        None,
        {},
        _outcome(
            Verdict.FILTERED,
            detail="loop_guard: the outcome came from NECIPS and is never sent back "
            "to it",
        ),
        id="loop-guard-filtered",
    ),
    pytest.param(
        {"xdr_shxym": "91310115MAF5PJ963D"},
        None,
        {"letter": LETTER},
        _outcome(
            Verdict.REJECTED,
            detail="dead letter 7 (new): UNISCID (from xdr_shxym): bad code",
        ),
        id="rejected-with-dead-letter",
    ),
    pytest.param(
        {"xdr_shxym": "91310115MAF5PJ963D"},
        None,
        {},
        _outcome(
            Verdict.REJECTED,
            detail=f"the mapping rejects it ({BAD_USCC}); no dead letter has it",
        ),
        id="rejected-without-dead-letter",
    ),
    pytest.param(
        {"xf_lx": "05"},
        {},
        {"letter": LETTER},
        _outcome(
            Verdict.REJECTED,
            detail="dead letter 7 (new): UNISCID (from xdr_shxym): bad code",
        ),
        id="newer-change-dead-lettered-over-a-stale-row",
    ),
    pytest.param(
        {}, {}, {"letter": LETTER}, _outcome(Verdict.AGREE),
        id="agreeing-row-outranks-an-older-dead-letter",
    ),
    pytest.param(
        {},
        {},
        {"deleted_at": datetime(2026, 2, 14, 2, 0, tzinfo=UTC)},
        _outcome(
            Verdict.DIFFERS,
            differences=(
                ValueDifference("CB_DELETED_AT", "NULL", "2026-02-14 02:00:00+00:00"),
            ),
        ),
        id="soft-deleted-there",
    ),
    pytest.param(
        {},
        {},
        {"applied_at": datetime(2026, 2, 25, 23, 59, 59, tzinfo=BEIJING)},
        _outcome(Verdict.AGREE),
        id="third-working-day-after-the-holiday-in-time",
    ),
    pytest.param(
        {},
        {},
        # 16:30 UTC is already Thursday 26 February in Beijing.
        {"applied_at": datetime(2026, 2, 25, 16, 30, tzinfo=UTC)},
        _outcome(
            Verdict.AGREE,
            late=True,
            detail="applied 2026-02-26, 4 working days after the change on "
            "2026-02-13",
        ),
        id="fourth-working-day-late",
    ),
    pytest.param(
        {},
        {"REPAIRTYPE": 7},
        {"applied_at": datetime(2026, 3, 2, 1, 0, tzinfo=UTC)},
        _outcome(
            Verdict.DIFFERS,
            late=True,
            detail="applied 2026-03-02, 7 working days after the change on "
            "2026-02-13",
            differences=(ValueDifference("REPAIRTYPE", "4", "7"),),
        ),
        id="differs-and-late-over-the-adjusted-saturday",
    ),
    pytest.param(
        {}, {}, {"applied_at": None}, _outcome(Verdict.AGREE),
        id="no-applied-time-is-never-late",
    ),
]


@pytest.mark.parametrize(("source", "staged", "options", "expected"), CASES)
def test_check_outcome(
    source: dict[str, Any],
    staged: dict[str, Any] | None,
    options: dict[str, Any],
    expected: OutcomeCheck,
) -> None:
    assert _check(source, staged, **options) == expected


def test_problem_is_everything_but_agree_and_filtered_in_time() -> None:
    assert [
        _outcome(verdict).problem for verdict in Verdict
    ] == [False, True, True, True, False]
    assert _outcome(Verdict.AGREE, late=True).problem is True


@pytest.mark.parametrize(
    ("expected", "found", "same"),
    [
        # The same instant, as MySQL's UTC and PostgreSQL's session zone give it.
        (datetime(2026, 2, 13, 2, tzinfo=UTC),
         datetime(2026, 2, 13, 10, tzinfo=BEIJING), True),
        (datetime(2026, 2, 13, 10), datetime(2026, 2, 13, 10, tzinfo=BEIJING), False),
        (date(2026, 2, 13), datetime(2026, 2, 13), False),
        (Decimal("1.50"), Decimal("1.5"), True),
        (Decimal("150"), 150, True),
        (Decimal("0.1"), 0.1, False),
        (True, 1, True),
        (False, 1, False),
        ("1", 1, False),
        (None, None, True),
        (None, "", False),
    ],
)
def test_same_value(expected: Any, found: Any, same: bool) -> None:
    assert same_value(expected, found) is same


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        (True, "true"),
        (4, "4"),
        (Decimal("12.500000"), "12.500000"),
        (date(2026, 2, 13), "2026-02-13"),
        (datetime(2026, 2, 13, 10, 0, 0, 5), "2026-02-13 10:00:00.000005"),
        (datetime(2026, 2, 13, 10, tzinfo=BEIJING), "2026-02-13 02:00:00+00:00"),
        ("沪浦", '"沪浦"'),
        ("520102199001013128", '"520102********3128"'),
    ],
)
def test_shown(value: Any, text: str) -> None:
    assert shown(value) == text
