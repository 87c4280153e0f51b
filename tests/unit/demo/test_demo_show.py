"""The demo's summary and its check of the day, from a made-up report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from rich.cells import cell_len
from rich.console import Console

from bridge.demo.play import DayReport, Snapshot, StepResult
from bridge.demo.registries import DeadLetter, Displayed
from bridge.demo.scenario import (
    DEAD_LETTER_REASON,
    PRIVACY_REASON,
    STEPS,
    Expect,
    Shown,
)
from bridge.demo.show import (
    PlainLine,
    day_table,
    difference_lines,
    step_line,
    summary_lines,
    views_line,
)

T0 = datetime(2025, 12, 1, 1, 0, tzinfo=UTC)
AGREEING = Displayed(
    credit_china=frozenset({("91310115MAF5PJ963C", "x"), ("91350102MAWPDQNQ9X", "y")}),
    natural_persons=3,
    necips=frozenset({("91310115MAF5PJ963C", "x"), ("91350102MAWPDQNQ9X", "y")}),
)


def _as_planned(lag_ms: int = 300) -> list[StepResult]:
    results = []
    for index, step in enumerate(STEPS):
        committed = T0 + timedelta(seconds=index)
        crosses = step.expect is Expect.CROSSES
        result = StepResult(
            step, before=step.after, after=step.after, committed=committed,
            applied=committed + timedelta(milliseconds=lag_ms * (index + 1))
            if crosses else None,
            observed=step.expect, done=True,
        )
        if step.expect is Expect.FILTERED:
            result.note = PRIVACY_REASON
        results.append(result)
    return results


def _report(results: list[StepResult], after: Displayed) -> DayReport:
    report = DayReport(before=after, snapshot=Snapshot(112, 113, 9.5, 17))
    report.results = results
    report.dead_letters = [
        DeadLetter(
            "xyzg-to-gsxt", '{"xf_bh": "XF-XYZG-110000-20251201-0004"}',
            f"UNISCID (from xdr_shxym): {DEAD_LETTER_REASON}",
        )
    ]
    report.after = after
    return report


def test_summary_of_a_day_as_planned() -> None:
    report = _report(_as_planned(), AGREEING)

    assert summary_lines(report) == [
        "Summary",
        "  Credit China -> NECIPS: 3 outcomes shared today, 112 from the snapshot",
        "  NECIPS -> Credit China: 5 outcomes shared today, 113 from the snapshot",
        "  dead letters: 1",
        "    XF-XYZG-110000-20251201-0004 UNISCID (from xdr_shxym), not written to "
        "NECIPS:",
        "      USCC '91110108MAKFGU0C4F' has check character 'F', but positions 1-17 "
        "give 'E'",
        "  filtered: 1 today, 17 from the snapshot",
        "    XF-XYZG-520000-20251201-0005:",
        "      privacy: natural persons' records never cross to NECIPS",
        "  latency (commit to applied): p50 1.35 s, max 2.40 s over 8 outcomes",
        "  display views agree: yes (on display: Credit China 2 + 3 of natural "
        "persons, NECIPS 2)",
        "  steps as expected: 11 of 11",
    ]
    assert report.ok


def test_a_step_that_ended_otherwise_fails_the_day() -> None:
    results = _as_planned()
    results[0].observed = Expect.DEAD_LETTER  # the expiry was rejected, not staged

    report = _report(results, AGREEING)

    assert summary_lines(report)[-1] == "  steps as expected: 10 of 11"
    assert not report.ok


def test_views_that_differ_fail_the_day_and_say_by_how_many() -> None:
    differing = Displayed(
        credit_china=AGREEING.credit_china, natural_persons=3,
        necips=frozenset({("91310115MAF5PJ963C", "x")}),
    )

    report = _report(_as_planned(), differing)

    assert summary_lines(report)[-2] == (
        "  display views agree: no, 1 penalty differs (on display: Credit China 2 + 3 "
        "of natural persons, NECIPS 1)"
    )
    assert not report.ok


def test_views_line_counts_both_registries() -> None:
    assert views_line("Before the bridge", AGREEING) == (
        "Before the bridge: Credit China shows 2 (+3 natural persons), NECIPS 2: "
        "they agree"
    )


def test_difference_lines_name_the_penalty_and_the_registry_showing_it() -> None:
    differing = Displayed(
        credit_china=AGREEING.credit_china, natural_persons=3,
        necips=AGREEING.necips | {("91440300MA5GT2LK8F", "粤深市监处〔2025〕88号")},
    )

    assert difference_lines(differing) == [
        "  粤深市监处〔2025〕88号 (91440300MA5GT2LK8F) is on display on NECIPS only"
    ]
    assert views_line("After the snapshot", differing).endswith(
        "NECIPS 3: 1 penalty differs"
    )


def _day_so_far() -> list[StepResult]:
    """The demo's day as a terminal saw it, the last step still waiting."""
    s, h, a = Shown.SHOWN, Shown.HIDDEN, Shown.ABSENT
    befores = [(s, s)] * 6 + [(h, h), (a, s), (s, s), (s, a), (a, h)]
    results = _as_planned(lag_ms=40)
    for result, before in zip(results, befores, strict=True):
        result.before = before
    last = results[-1]
    last.after, last.applied, last.observed, last.done = None, None, None, False
    return results


@pytest.fixture
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is UTC for the test, and restored after."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc_clock")
def test_the_day_table_fits_80_columns_with_every_latency_whole() -> None:
    console = Console(width=80, record=True, color_system=None)

    console.print(day_table(_day_so_far()))

    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines == [
        " # outcome or penalty           committed     applied Credit China NECIPS",
        " 1 XF-GSXT-310000-20240615-0001 01:00:00      +0.04 s "
        "shown→hidden shown→hidden",
        " 2 XF-XYZG-330000-20251201-0001 01:00:01      +0.08 s "
        "shown→hidden shown→hidden",
        " 3 XF-GSXT-350000-20250210-0003 01:00:02      +0.12 s "
        "shown→hidden shown→hidden",
        " 4 XF-XYZG-320000-20251201-0002 01:00:03      +0.16 s "
        "shown→hidden shown→hidden",
        " 5 XF-GSXT-520000-20240815-0031 01:00:04      +0.20 s "
        "shown→hidden shown→hidden",
        " 6 XF-XYZG-420000-20251201-0003 01:00:05      +0.24 s "
        "shown→hidden shown→hidden",
        " 7 XF-GSXT-520000-20240902-0042 01:00:06      +0.28 s "
        "hidden→shown hidden→shown",
        " 8 XF-GSXT-440000-20251201-0088 01:00:07      +0.32 s "
        "absent       shown→hidden",
        " 9 XF-XYZG-110000-20251201-0004 01:00:08  dead letter shown        shown",
        "10 XF-XYZG-520000-20251201-0005 01:00:09     filtered shown→hidden absent",
        "11 publish CASE-440000-DEMO004  01:00:10     waiting… absent       hidden",
    ]


def test_every_step_line_fits_80_columns() -> None:
    widest = max(
        cell_len(step_line(index, result).plain)
        for index, result in enumerate(_as_planned(), 1)
    )

    assert widest <= 80


def _printed_80(*renderables: object) -> list[str]:
    console = Console(width=80, record=True, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_the_summary_wraps_under_each_line_s_indentation_at_80_columns() -> None:
    """Pins: `not written to NECIPS` then `:` alone, and ` 'E'` at column 0."""
    lines = summary_lines(_report(_as_planned(), AGREEING))

    assert _printed_80(*(PlainLine(line) for line in lines)) == [
        "Summary",
        "  Credit China -> NECIPS: 3 outcomes shared today, 112 from the snapshot",
        "  NECIPS -> Credit China: 5 outcomes shared today, 113 from the snapshot",
        "  dead letters: 1",
        "    XF-XYZG-110000-20251201-0004 UNISCID (from xdr_shxym), not written to",
        "    NECIPS:",
        "      USCC '91110108MAKFGU0C4F' has check character 'F', but positions 1-17 "
        "give",
        "      'E'",
        "  filtered: 1 today, 17 from the snapshot",
        "    XF-XYZG-520000-20251201-0005:",
        "      privacy: natural persons' records never cross to NECIPS",
        "  latency (commit to applied): p50 1.35 s, max 2.40 s over 8 outcomes",
        "  display views agree: yes (on display: Credit China 2 + 3 of natural "
        "persons,",
        "  NECIPS 2)",
        "  steps as expected: 11 of 11",
    ]


def test_views_and_difference_lines_hang_under_their_start_as_written() -> None:
    """Pins: rich taking `[2024]` in a decision number for a markup tag."""
    differing = Displayed(
        credit_china=AGREEING.credit_china, natural_persons=3,
        necips=AGREEING.necips | {("91310115MAF5PJ963C", "沪浦市监处[2024]123号")},
    )
    views = views_line("Before the bridge", differing)
    [difference] = difference_lines(differing)

    assert _printed_80(PlainLine(views, 2), PlainLine(difference, 2)) == [
        "Before the bridge: Credit China shows 2 (+3 natural persons), NECIPS 3: 1",
        "  penalty differs",
        "  沪浦市监处[2024]123号 (91310115MAF5PJ963C) is on display on NECIPS only",
    ]
