"""Counting checks per province and direction, and the report's JSON."""

from __future__ import annotations

from datetime import date

from bridge.reconcile.compare import OutcomeCheck, ValueDifference, Verdict
from bridge.reconcile.report import DirectionChecks, build_report, report_json

DAY = date(2026, 2, 13)
TO_NECIPS = DirectionChecks(
    "xyzg-to-gsxt",
    "Credit China -> NECIPS",
    [
        OutcomeCheck("XF-3", "310000", Verdict.MISSING, detail="no row"),
        OutcomeCheck("XF-1", "310000", Verdict.AGREE),
        OutcomeCheck("XF-2", "310000", Verdict.AGREE, late=True, detail="late"),
        OutcomeCheck("XF-4", "310000", Verdict.FILTERED, detail="privacy"),
        OutcomeCheck("XF-5", "999999", Verdict.REJECTED, detail="dead letter 1"),
        OutcomeCheck("XF-6", None, Verdict.AGREE),
    ],
)
TO_CREDIT_CHINA = DirectionChecks(
    "gsxt-to-xyzg",
    "NECIPS -> Credit China",
    [
        OutcomeCheck(
            "XF-7",
            "110000",
            Verdict.DIFFERS,
            differences=(ValueDifference("xf_lx", '"01"', '"05"'),),
        ),
    ],
)


def _counts(report_lines: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [
        tuple(line.values()) for line in report_lines if line["changed"] != 0
    ]


def test_every_province_gets_a_line_in_each_direction() -> None:
    report = build_report(DAY, [TO_NECIPS, TO_CREDIT_CHINA])

    lines = report_json(report)["provinces"]
    assert len(lines) == 32 * 2 + 2
    assert [(line["province"], line["direction"]) for line in lines[:2]] == [
        ("110000", "Credit China -> NECIPS"),
        ("110000", "NECIPS -> Credit China"),
    ]
    assert [(line["province"], line["name"]) for line in lines[-4:]] == [
        ("660000", "Xinjiang Production and Construction Corps"),
        ("660000", "Xinjiang Production and Construction Corps"),
        ("999999", "(not a province code)"),
        ("(none)", "(none)"),
    ]
    assert _counts(lines) == [
        ("110000", "Beijing", "NECIPS -> Credit China", 1, 0, 0, 1, 0, 0, 0),
        ("310000", "Shanghai", "Credit China -> NECIPS", 4, 2, 1, 0, 1, 0, 1),
        ("999999", "(not a province code)", "Credit China -> NECIPS",
         1, 0, 0, 0, 0, 1, 0),
        ("(none)", "(none)", "Credit China -> NECIPS", 1, 1, 0, 0, 0, 0, 0),
    ]


def test_problems_by_province_direction_and_number() -> None:
    report = build_report(DAY, [TO_NECIPS, TO_CREDIT_CHINA])

    assert report.ok is False
    assert report_json(report)["problems"] == [
        {
            "pipeline": "gsxt-to-xyzg",
            "direction": "NECIPS -> Credit China",
            "province": "110000",
            "outcome": "XF-7",
            "verdict": "differs",
            "late": False,
            "detail": "",
            "differences": [{"column": "xf_lx", "expected": '"01"', "found": '"05"'}],
        },
        {
            "pipeline": "xyzg-to-gsxt",
            "direction": "Credit China -> NECIPS",
            "province": "310000",
            "outcome": "XF-2",
            "verdict": "agree",
            "late": True,
            "detail": "late",
            "differences": [],
        },
        {
            "pipeline": "xyzg-to-gsxt",
            "direction": "Credit China -> NECIPS",
            "province": "310000",
            "outcome": "XF-3",
            "verdict": "missing",
            "late": False,
            "detail": "no row",
            "differences": [],
        },
        {
            "pipeline": "xyzg-to-gsxt",
            "direction": "Credit China -> NECIPS",
            "province": "999999",
            "outcome": "XF-5",
            "verdict": "rejected",
            "late": False,
            "detail": "dead letter 1",
            "differences": [],
        },
    ]


def test_one_province_only() -> None:
    report = build_report(
        DAY, [DirectionChecks("a", "A", []), DirectionChecks("b", "B", [])], "660000"
    )

    assert report_json(report) == {
        "day": "2026-02-13",
        "late_after_working_days": 3,
        "ok": True,
        "provinces": [
            {
                "province": "660000",
                "name": "Xinjiang Production and Construction Corps",
                "direction": direction,
                "changed": 0,
                "agree": 0,
                "missing": 0,
                "differs": 0,
                "late": 0,
                "rejected": 0,
                "filtered": 0,
            }
            for direction in ("A", "B")
        ],
        "problems": [],
    }
