"""What the demo prints: one line per registry act, a live table, and the summary.

Everything fits a terminal of 80 columns. The summary is plain text, one fact per
line, so that a test can compare it line by line.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from rich.console import Console, ConsoleOptions
from rich.table import Table
from rich.text import Text

from bridge.demo.play import TARGET_OF, DayReport, StepResult
from bridge.demo.registries import Displayed
from bridge.demo.scenario import (
    CREDIT_CHINA,
    NECIPS,
    STEPS,
    Expect,
    OutcomeStep,
    Shown,
)

_STATE_STYLE = {Shown.SHOWN: "green", Shown.HIDDEN: "yellow", Shown.ABSENT: "dim"}
_ARROW = "→"


class PlainLine:
    """One line of plain text, wrapped at words under its own indentation.

    Printed as written (no markup: ``[2024]`` in a decision number stays). Each
    continuation line starts where the line's text starts, plus *hang*, so that a
    wrapped summary line still reads as part of its block at 80 columns.
    """

    def __init__(self, line: str, hang: int = 0) -> None:
        self.text = line.lstrip(" ")
        self.indent = len(line) - len(self.text)
        self.hang = hang

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[Text]:
        width = max(options.max_width - self.indent - self.hang, 1)
        for number, part in enumerate(Text(self.text).wrap(console, width)):
            part.rstrip()
            margin = self.indent + (self.hang if number else 0)
            yield Text(" " * margin).append_text(part)


def step_line(index: int, result: StepResult) -> Text:
    """``3. 18:02:03 NECIPS: early stop ...``: what a registry just did."""
    when = datetime.now().strftime("%H:%M:%S")
    return Text.assemble((f"{index:>2}. {when} ", "dim"), result.step.says)


def day_table(results: list[StepResult]) -> Table:
    """Every step so far: commit, latency and the display on both sides.

    Its widest row is 80 columns: the applied time is the commit time plus the
    latency, so only the latency is shown.
    """
    table = Table(box=None, padding=(0, 1, 0, 0), pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("outcome or penalty", no_wrap=True)
    table.add_column("committed", no_wrap=True)
    table.add_column("applied", justify="right", no_wrap=True)
    table.add_column("Credit China", no_wrap=True)
    table.add_column("NECIPS", no_wrap=True)
    for index, result in enumerate(results, 1):
        table.add_row(*_row(index, result))
    return table


def _row(index: int, result: StepResult) -> list[str | Text]:
    failed = result.done and not result.as_expected
    label = Text(
        result.step.number if isinstance(result.step, OutcomeStep)
        else f"publish {result.step.penalty.case_id}",
        style="bold red" if failed else "",
    )
    return [
        str(index),
        label,
        _clock(result.committed),
        _applied(result),
        _change(result.before[0], result.after[0] if result.after else None),
        _change(result.before[1], result.after[1] if result.after else None),
    ]


def _clock(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%H:%M:%S")


def _applied(result: StepResult) -> str | Text:
    """``+0.08 s`` after the commit, or what became of a step that does not cross."""
    if not result.done:
        return Text("waiting…", style="dim")
    if result.observed is Expect.CROSSES:
        latency = result.latency
        return "" if latency is None else f"+{latency:.2f} s"
    if result.observed is None:
        return Text("not seen", style="bold red")
    return Text(result.observed.value, style="magenta")


def _change(before: Shown, after: Shown | None) -> Text:
    """``shown→hidden``, or the one state when the step did not change it."""
    text = Text(before.value, style=_STATE_STYLE[before])
    if after is None or after is before:
        return text
    return text.append(_ARROW).append(after.value, style=_STATE_STYLE[after])


def views_line(label: str, displayed: Displayed) -> str:
    """How many penalties each registry shows, and whether the two agree."""
    differing = displayed.differing
    verdict = "they agree" if displayed.agree else _differ(differing)
    return (
        f"{label}: Credit China shows {len(displayed.credit_china)} "
        f"(+{displayed.natural_persons} natural persons), NECIPS "
        f"{len(displayed.necips)}: {verdict}"
    )


def difference_lines(displayed: Displayed, limit: int = 3) -> list[str]:
    """Up to *limit* penalties one registry shows and the other does not."""
    only_cc = sorted(displayed.credit_china - displayed.necips)
    only_necips = sorted(displayed.necips - displayed.credit_china)
    shown_on = [(key, "Credit China") for key in only_cc]
    shown_on += [(key, "NECIPS") for key in only_necips]
    return [
        f"  {number} ({uscc}) is on display on {where} only"
        for (uscc, number), where in shown_on[:limit]
    ]


def _penalties(count: int) -> str:
    return f"{count} penalty" if count == 1 else f"{count} penalties"


def _differ(count: int) -> str:
    return f"{_penalties(count)} {'differs' if count == 1 else 'differ'}"


def summary_lines(report: DayReport) -> list[str]:
    """The closing summary, one fact per line."""
    lines = ["Summary"]
    snapshot = report.snapshot
    lines.append(
        f"  Credit China -> NECIPS: {report.shared(CREDIT_CHINA)} outcomes shared "
        f"today, {snapshot.to_necips} from the snapshot"
    )
    lines.append(
        f"  NECIPS -> Credit China: {report.shared(NECIPS)} outcomes shared today, "
        f"{snapshot.to_credit_china} from the snapshot"
    )
    lines += _dead_letter_lines(report)
    lines += _filtered_lines(report)
    lines.append(_latency_line(report))
    lines.append(_agreement_line(report.after))
    expected = report.expected_steps()
    lines.append(f"  steps as expected: {expected} of {len(STEPS)}")
    return lines


def _dead_letter_lines(report: DayReport) -> list[str]:
    lines = [f"  dead letters: {len(report.dead_letters)}"]
    for letter in report.dead_letters:
        number = _outcome_number(letter.event_key)
        towards = "NECIPS" if TARGET_OF[letter.pipeline] == NECIPS else "Credit China"
        where, found, reason = letter.message.partition(": ")
        field, reason = (f" {where}", reason) if found else ("", letter.message)
        lines.append(f"    {number}{field}, not written to {towards}:")
        lines.append(f"      {reason}")
    return lines


def _filtered_lines(report: DayReport) -> list[str]:
    today = [r for r in report.results if r.observed is Expect.FILTERED]
    held = report.snapshot.natural_persons
    lines = [f"  filtered: {len(today)} today, {held} from the snapshot"]
    for result in today:
        lines.append(f"    {result.step.label}:")
        lines.append(f"      {result.note}")
    return lines


def _latency_line(report: DayReport) -> str:
    values = report.latencies()
    p50 = report.p50()
    if not values or p50 is None:
        return "  latency: no outcome crossed"
    return (
        f"  latency (commit to applied): p50 {p50:.2f} s, max {max(values):.2f} s "
        f"over {len(values)} outcomes"
    )


def _agreement_line(after: Displayed | None) -> str:
    if after is None:
        return "  display views agree: unknown"
    verdict = "yes" if after.agree else f"no, {_differ(after.differing)}"
    return (
        f"  display views agree: {verdict} (on display: Credit China "
        f"{len(after.credit_china)} + {after.natural_persons} of natural persons, "
        f"NECIPS {len(after.necips)})"
    )


def _outcome_number(event_key: str) -> str:
    """The outcome number out of a dead letter's key JSON, else the key itself."""
    for part in event_key.replace('"', " ").replace(",", " ").split():
        if part.startswith("XF-"):
            return part.rstrip("}")
    return event_key
