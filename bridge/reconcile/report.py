"""The daily report: counts per province and direction, then the problem rows.

NDRC and SAMR inspect province by province (DOMAIN.md section 6), so every one of the
32 reporting units gets a line in each direction, also on a day it changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from bridge.observe.status import provinces
from bridge.reconcile.calendar import APPLY_LIMIT_WORKING_DAYS
from bridge.reconcile.compare import OutcomeCheck

UNKNOWN_PROVINCE: Final = "(not a province code)"
NO_PROVINCE: Final = "(none)"
_RANKS: Final = {code: rank for rank, (code, _) in enumerate(provinces())}


@dataclass(frozen=True, slots=True)
class DirectionChecks:
    """Every outcome one pipeline's source changed on the day, checked."""

    pipeline: str
    direction: str
    checks: Sequence[OutcomeCheck]


@dataclass(slots=True)
class ProvinceLine:
    """The counts of one province in one direction."""

    province: str
    name: str
    direction: str
    changed: int = 0
    agree: int = 0
    missing: int = 0
    differs: int = 0
    late: int = 0
    rejected: int = 0
    filtered: int = 0

    def count(self, check: OutcomeCheck) -> None:
        self.changed += 1
        self.late += check.late
        # The verdicts are named like the counters.
        verdict = check.verdict.value
        setattr(self, verdict, getattr(self, verdict) + 1)

    @property
    def problems(self) -> int:
        return self.missing + self.differs + self.late + self.rejected


@dataclass(frozen=True, slots=True)
class Problem:
    """One outcome an operator has to look at, with the direction it belongs to."""

    pipeline: str
    direction: str
    check: OutcomeCheck


@dataclass(slots=True)
class Report:
    day: date
    lines: list[ProvinceLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def build_report(
    day: date, directions: Sequence[DirectionChecks], province: str | None = None
) -> Report:
    """Count *directions*' checks per province; *province* keeps that one only."""
    names = dict(provinces())
    report = Report(day)
    lines: dict[tuple[str, str], ProvinceLine] = {}
    wanted = [province] if province is not None else list(names)
    for direction in directions:
        for code in wanted:
            lines[code, direction.direction] = _line(code, names, direction.direction)
        for check in direction.checks:
            code = check.province or NO_PROVINCE
            key = (code, direction.direction)
            if key not in lines:
                lines[key] = _line(code, names, direction.direction)
            lines[key].count(check)
            if check.problem:
                report.problems.append(
                    Problem(direction.pipeline, direction.direction, check)
                )
    report.lines = sorted(lines.values(), key=lambda line: _order(line.province))
    report.problems.sort(
        key=lambda p: (_order(p.check.province), p.direction, p.check.number)
    )
    return report


def _order(province: str | None) -> tuple[int, bool, str]:
    """The 32 units in the order of DOMAIN.md, then other codes, then none."""
    code = province or NO_PROVINCE
    return (_RANKS.get(code, len(_RANKS)), code == NO_PROVINCE, code)


def _line(code: str, names: dict[str, str], direction: str) -> ProvinceLine:
    unknown = NO_PROVINCE if code == NO_PROVINCE else UNKNOWN_PROVINCE
    name = names.get(code, unknown)
    return ProvinceLine(code, name, direction)


def report_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON values, for ``--json`` and scripts."""
    return {
        "day": report.day.isoformat(),
        "late_after_working_days": APPLY_LIMIT_WORKING_DAYS,
        "ok": report.ok,
        "provinces": [
            {
                "province": line.province,
                "name": line.name,
                "direction": line.direction,
                "changed": line.changed,
                "agree": line.agree,
                "missing": line.missing,
                "differs": line.differs,
                "late": line.late,
                "rejected": line.rejected,
                "filtered": line.filtered,
            }
            for line in report.lines
        ],
        "problems": [_problem_json(problem) for problem in report.problems],
    }


def _problem_json(problem: Problem) -> dict[str, Any]:
    check = problem.check
    return {
        "pipeline": problem.pipeline,
        "direction": problem.direction,
        "province": check.province,
        "outcome": check.number,
        "verdict": check.verdict.value,
        "late": check.late,
        "detail": check.detail,
        "differences": [
            {"column": d.column, "expected": d.expected, "found": d.found}
            for d in check.differences
        ],
    }
