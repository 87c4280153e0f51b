"""One outcome against the other side: agree, missing, differs, rejected or filtered.

Pure functions over rows already read; :mod:`bridge.reconcile.read` does the reading.
The expected target row is the pipeline's own mapping applied to the source row
(:func:`bridge.map.preview.preview_row`), so the comparison can never disagree with
what the bridge would write.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from bridge.map.codes import looks_like_id_number, mask_id_number
from bridge.map.loader import DEFAULT_ZONE
from bridge.map.preview import Preview
from bridge.map.timeconv import zone
from bridge.reconcile.calendar import APPLY_LIMIT_WORKING_DAYS, working_days_after

BEIJING: Final = zone(DEFAULT_ZONE)
"""The reconciliation day and the working-day rule are Beijing-time days."""

ABSENT: Final = "(no such column)"


class Verdict(enum.StrEnum):
    AGREE = "agree"
    MISSING = "missing"
    DIFFERS = "differs"
    REJECTED = "rejected"
    FILTERED = "filtered"


@dataclass(frozen=True, slots=True)
class StagedRow:
    """The other side's staging row for one outcome, as read.

    ``applied_at`` and ``deleted_at`` are aware instants (the bridge's own columns).
    """

    values: Mapping[str, Any]
    applied_at: datetime | None = None
    deleted_column: str | None = None
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OpenDeadLetter:
    """The newest dead letter of an outcome that was not replayed since."""

    letter_id: int
    status: str
    message: str


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """One outcome changed on the day, and the row its mapping expects over there."""

    number: str
    province: str | None
    changed_on: date
    """The Beijing day of the source change."""
    expected: Preview


@dataclass(frozen=True, slots=True)
class ValueDifference:
    """One mapped column whose staged value is not the expected one (as text)."""

    column: str
    expected: str
    found: str


@dataclass(frozen=True, slots=True)
class OutcomeCheck:
    """What reconciliation found for one outcome changed on the day."""

    number: str
    province: str | None
    verdict: Verdict
    late: bool = False
    detail: str = ""
    differences: tuple[ValueDifference, ...] = ()

    @property
    def problem(self) -> bool:
        """Whether an operator has to look at it: all but agree and filtered."""
        return self.late or self.verdict not in (Verdict.AGREE, Verdict.FILTERED)


def check_outcome(
    source: SourceOutcome,
    staged: StagedRow | None = None,
    letter: OpenDeadLetter | None = None,
) -> OutcomeCheck:
    """Compare the expected row of one outcome with what the other side holds.

    A row the mapping filters out is not expected there. A staged row that agrees
    wins over an older dead letter; otherwise an open dead letter (or a mapping that
    rejects the row) makes it rejected.
    """
    expected = source.expected
    if expected.outcome == "filtered":
        return _verdict(source, Verdict.FILTERED, _reason(expected))
    differences: tuple[ValueDifference, ...] = ()
    if expected.outcome == "mapped" and staged is not None:
        differences = compare_values(expected.mapped, staged)
        if not differences:
            return _present(source, staged, Verdict.AGREE, ())
    if letter is not None:
        detail = f"dead letter {letter.letter_id} ({letter.status}): {letter.message}"
        return _verdict(source, Verdict.REJECTED, detail)
    if expected.outcome == "rejected":
        detail = f"the mapping rejects it ({_reason(expected)}); no dead letter has it"
        return _verdict(source, Verdict.REJECTED, detail)
    if staged is None:
        return _verdict(source, Verdict.MISSING, "no row on the other side")
    return _present(source, staged, Verdict.DIFFERS, differences)


def _verdict(source: SourceOutcome, verdict: Verdict, detail: str) -> OutcomeCheck:
    return OutcomeCheck(source.number, source.province, verdict, detail=detail)


def _present(
    source: SourceOutcome,
    staged: StagedRow,
    verdict: Verdict,
    differences: tuple[ValueDifference, ...],
) -> OutcomeCheck:
    """A check for an outcome the other side holds, late or in time."""
    late, detail = False, ""
    if staged.applied_at is not None:
        applied_on = staged.applied_at.astimezone(BEIJING).date()
        days = working_days_after(source.changed_on, applied_on)
        late = days > APPLY_LIMIT_WORKING_DAYS
        if late:
            detail = (
                f"applied {applied_on.isoformat()}, {days} working days after the "
                f"change on {source.changed_on.isoformat()}"
            )
    return OutcomeCheck(
        source.number, source.province, verdict, late, detail, differences
    )


def compare_values(
    expected: Mapping[str, Any], staged: StagedRow
) -> tuple[ValueDifference, ...]:
    """The mapped columns whose staged value differs, then a soft delete if any."""
    differences = [
        ValueDifference(column, shown(value), _found(staged.values, column))
        for column, value in expected.items()
        if column not in staged.values or not same_value(value, staged.values[column])
    ]
    if staged.deleted_column is not None and staged.deleted_at is not None:
        differences.append(
            ValueDifference(staged.deleted_column, "NULL", shown(staged.deleted_at))
        )
    return tuple(differences)


def same_value(expected: Any, found: Any) -> bool:
    """Equal once types that legitimately differ between drivers are set aside.

    Python's own equality is the rule wanted here, so this names it: aware date-times
    compare as instants (PostgreSQL answers in the session's zone), decimals and
    integers exactly by value, and a boolean equals the ``TINYINT`` 0 or 1 MySQL
    stores for it; a naive wall-clock time never equals an aware instant, nor a date
    a date-time, nor text a number.
    """
    return bool(expected == found)


def _found(values: Mapping[str, Any], column: str) -> str:
    return shown(values[column]) if column in values else ABSENT


def shown(value: Any) -> str:
    """A value as the report prints it: text quoted, instants in UTC, IDs masked."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment: datetime = value if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        masked = mask_id_number(value) if looks_like_id_number(value) else value
        return json.dumps(masked, ensure_ascii=False)
    return str(value)


def _reason(preview: Preview) -> str:
    return preview.reason or preview.outcome
