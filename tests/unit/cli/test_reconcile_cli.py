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
from bridge.reconcile.report import DirectionChecks, Report, build_report

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


def test_a_day_after_today_in_beijing_is_refused() -> None:
    """Pins: `--day 2035-01-02` exiting 0 on an empty report a cron job takes as OK."""
    # 00:30 on 2 March in Beijing: 2 March is today and may be reported, 3 March not.
    now = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)

    with pytest.raises(ConfigError) as raised:
        reconcile_date("2026-03-03", now)

    assert reconcile_date("2026-03-02", now) == date(2026, 3, 2)
    assert str(raised.value) == (
        "--day 2026-03-03 is in the future (today in Beijing is 2026-03-02); give a "
        "day up to today; nothing was reported"
    )


def test_a_year_the_calendar_does_not_cover_exits_2_before_reading_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: a day of a year chinesecalendar lacks exiting 0 with nothing checked."""
    monkeypatch.setattr("bridge.devenv.api.running", _not_running)

    result = runner.invoke(app, ["reconcile", "--day", "2003-06-02"])

    assert result.exit_code == 2
    assert result.output.startswith(
        "FAILED: --day 2003-06-02: the installed chinesecalendar knows no working "
        "days of 2003 ("
    )
    assert result.output.endswith(
        "); upgrade it (pip install -U chinesecalendar) and run again; nothing was "
        "reported\n"
    )


@pytest.mark.parametrize("text", ["31", "999999", "110100", "660001"])
def test_a_province_code_must_be_a_reporting_unit(text: str) -> None:
    """Pins: `--province 999999` printing `999999 (not a province code)`, exit 0."""
    with pytest.raises(ConfigError) as raised:
        province_code(text)

    assert str(raised.value) == (
        f"--province {text!r} is not a province code: give one of the 31 GB/T 2260 "
        "codes from 110000 (Beijing) to 650000 (Xinjiang), or 660000 for the Corps; "
        "nothing was reported"
    )


@pytest.mark.parametrize("text", [None, "110000", "150000", "650000", "660000"])
def test_reporting_units_are_taken(text: str | None) -> None:
    assert province_code(text) == text


def test_a_bad_province_exits_2_before_reading_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bridge.devenv.api.running", _not_running)

    result = runner.invoke(
        app, ["reconcile", "--day", "2026-02-13", "--province", "999999"]
    )

    assert result.exit_code == 2
    assert result.output.startswith("FAILED: --province '999999' is not a province")


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
        "     Credit China -> NECIPS, outcomes changed on 2026-02-13 (Beijing)",
        "code    province  total  agree  missing  differs  late  rejected  filtered",
        "─" * 74,
        "310000  Shanghai      3      1        1        1     1         0         0",
        "",
        "                       Credit China -> NECIPS, to look at",
        "code    outcome           verdict        what",
        "─" * 80,
        "310000  XF-3              missing        no row on the other side",
        "310000  XF-XYZG-T-000002  differs, late  REPAIRTYPE: expected 4, found 7",
        "                                         applied 2026-02-26, 4 working days",
        "                                         after the change on 2026-02-13",
        "",
        "     NECIPS -> Credit China, outcomes changed on 2026-02-13 (Beijing)",
        "code    province  total  agree  missing  differs  late  rejected  filtered",
        "─" * 74,
        "310000  Shanghai      1      0        0        0     0         0         1",
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


def _render_80(report: Report) -> list[str]:
    console = Console(width=80, file=io.StringIO(), color_system=None, record=True)
    render_report(report, console)
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_the_longest_province_names_fit_80_columns_unwrapped() -> None:
    """Pins: "Inner Mongolia" and "Xinjiang Corps" wrapped over two lines."""
    report = build_report(
        date(2026, 2, 13),
        [DirectionChecks("xyzg-to-gsxt", "Credit China -> NECIPS", [])],
    )

    lines = _render_80(report)

    assert max(len(line) for line in lines) <= 80
    assert lines[1] == (
        "code    province        total  agree  missing  differs  late  rejected  "
        "filtered"
    )
    assert lines[7] == (
        "150000  Inner Mongolia      0      0        0        0     0         0"
        "         0"
    )
    assert lines[34] == (
        "660000  Xinjiang Corps      0      0        0        0     0         0"
        "         0"
    )


def test_a_day_without_changes_says_which_day_and_how_to_pick_another() -> None:
    """Pins: a bare "0 outcomes changed" the day after the demo (Beijing's day)."""
    report = build_report(
        date(2026, 2, 13),
        [DirectionChecks("xyzg-to-gsxt", "Credit China -> NECIPS", [])],
        "310000",
    )

    assert _render_80(report)[-2:] == [
        "2026-02-13: no outcome changed on this day (Beijing time); nothing to look "
        "at;",
        "--day YYYY-MM-DD picks another day",
    ]


def test_one_outcome_is_one_outcome() -> None:
    report = build_report(
        date(2026, 2, 13),
        [
            DirectionChecks(
                "xyzg-to-gsxt",
                "Credit China -> NECIPS",
                [OutcomeCheck("XF-1", "310000", Verdict.AGREE)],
            )
        ],
        "310000",
    )

    assert _render_80(report)[-1] == "2026-02-13: 1 outcome changed; nothing to look at"


def test_bracketed_text_from_the_databases_is_printed_as_written() -> None:
    """Pins: rich taking `[2024]` in a decision number for a markup tag."""
    number = "沪浦市监处[2024]123号"
    check = OutcomeCheck(
        number,
        "310000",
        Verdict.DIFFERS,
        differences=(ValueDifference("PENDECNO", "[mgMG]", number),),
    )
    report = build_report(
        date(2026, 2, 13),
        [DirectionChecks("xyzg-to-gsxt", "Credit China -> NECIPS", [check])],
        "310000",
    )

    text = "\n".join(_render_80(report))

    assert f"310000  {number}  differs  PENDECNO: expected [mgMG], found" in text
    assert f"  {number}\n" in text
