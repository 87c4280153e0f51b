"""The demo's summary and its check of the day, from a made-up report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.demo.play import DayReport, Snapshot, StepResult
from bridge.demo.registries import DeadLetter, Displayed
from bridge.demo.scenario import DEAD_LETTER_REASON, PRIVACY_REASON, STEPS, Expect
from bridge.demo.show import difference_lines, summary_lines, views_line

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
