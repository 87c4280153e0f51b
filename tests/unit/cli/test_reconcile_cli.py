"""``creditbridge reconcile``: its options, its tables and its exit status."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.cli.reconcile import province_code, reconcile_date, render_report
from bridge.errors import ConfigError, DevEnvError
from bridge.reconcile.compare import OutcomeCheck, ValueDifference, Verdict
from bridge.reconcile.report import DirectionChecks, build_report

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "now", "day"),
    [
        # 01:00 on 2 March in Beijing: yesterday is 1 March, not UTC's 28 February.
        (None, datetime(2026, 3, 1, 17, 0, tzinfo=UTC), date(2026, 3, 1)),
        (None, datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC), date(2026, 2, 28)),
        ("2026-02-13", datetime(2026, 3, 1, tzinfo=UTC), date(2026, 2, 13)),
    ],
)
def test_the_day_is_a_beijing_day(text: str | None, now: datetime, day: date) -> None:
    assert reconcile_date(text, now) == day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-2-13", "--day '2026-2-13' is not a day YYYY-MM-DD (expected "
         "YYYY-MM-DD); nothing was reported"),
        ("2026-02-30", "--day '2026-02-30' is not a day YYYY-MM-DD (day is out of "
         "range for month); nothing was reported"),
    ],
)
def test_a_day_that_is_no_day_is_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        reconcile_date(text, datetime(2026, 3, 1, tzinfo=UTC))

    assert str(raised.value) == message


def test_province_codes() -> None:
    assert province_code(None) is None
    assert province_code("660000") == "660000"
    with pytest.raises(ConfigError) as raised:
        province_code("31")
    assert str(raised.value) == (
        "--province '31' is not a six-digit province code such as 110000 (660000 "
        "for the Corps); nothing was reported"
    )


def test_report_tables_fit_80_columns() -> None:
    report = build_report(
        date(2026, 2, 13),
        [
            DirectionChecks(
                "xyzg-to-gsxt",
                "Credit China -> NECIPS",
                [
                    OutcomeCheck("XF-1", "310000", Verdict.AGREE),
                    OutcomeCheck(
                        "XF-XYZG-T-000002",
                        "310000",
                        Verdict.DIFFERS,
                        late=True,
                        detail="applied 2026-02-26, 4 working days after the change "
                        "on 2026-02-13",
                        differences=(ValueDifference("REPAIRTYPE", "4", "7"),),
                    ),
                    OutcomeCheck(
                        "XF-3", "310000", Verdict.MISSING,
                        detail="no row on the other side",
                    ),
                ],
            ),
            DirectionChecks(
                "gsxt-to-xyzg",
                "NECIPS -> Credit China",
                [OutcomeCheck("XF-4", "310000", Verdict.FILTERED, detail="loop")],
            ),
        ],
        "310000",
    )
    console = Console(width=80, file=io.StringIO(), color_system=None, record=True)

    render_report(report, console)

    assert [line.rstrip() for line in console.export_text().splitlines()] == [
        "        Credit China -> NECIPS, outcomes changed on 2026-02-13 (Beijing)",
        "code    province      changed  agree  missing  differs  late  rejected  "
        "filtered",
        "─" * 80,
        "310000  Shanghai            3      1        1        1     1         0"
        "         0",
        "",
        "                       Credit China -> NECIPS, to look at",
        "code    outcome           verdict        what",
        "─" * 80,
        "310000  XF-3              missing        no row on the other side",
        "310000  XF-XYZG-T-000002  differs, late  REPAIRTYPE: expected 4, found 7",
        "                                         applied 2026-02-26, 4 working days",
        "                                         after the change on 2026-02-13",
        "",
        "        NECIPS -> Credit China, outcomes changed on 2026-02-13 (Beijing)",
        "code    province      changed  agree  missing  differs  late  rejected  "
        "filtered",
        "─" * 80,
        "310000  Shanghai            1      0        0        0     0         0"
        "         1",
        "",
        "2026-02-13: 4 outcomes changed; 2 to look at",
    ]


def test_a_bad_day_exits_2_before_reading_anything() -> None:
    result = runner.invoke(app, ["reconcile", "--day", "yesterday"])

    assert result.exit_code == 2
    assert result.output == (
        "FAILED: --day 'yesterday' is not a day YYYY-MM-DD (expected YYYY-MM-DD); "
        "nothing was reported\n"
    )


def _not_running() -> None:
    raise DevEnvError(
        "the local demo databases are not running (state in /x); start them with "
        "`creditbridge dev up`"
    )


def test_without_config_the_demo_databases_must_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: a read-only report never starts the local servers."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("bridge.devenv.api.running", _not_running)

    result = runner.invoke(app, ["reconcile", "--day", "2026-02-13"])

    assert result.exit_code == 2
    assert result.output == (
        "FAILED: the local demo databases are not running (state in /x); start them "
        "with `creditbridge dev up`, or give --config; nothing was reported\n"
    )
