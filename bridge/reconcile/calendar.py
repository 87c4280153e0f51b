"""Working days by China's official calendar, for the 3-working-day rule.

DOMAIN.md section 2: the receiving side must apply a shared outcome in no more than 3
working days. Public holidays and the weekends worked in their place are set by the
State Council each year; ``chinesecalendar`` carries them, one release per new year.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import chinese_calendar

from bridge.errors import ConfigError

APPLY_LIMIT_WORKING_DAYS: Final = 3
"""Working days the receiving side has to apply a shared outcome (DOMAIN.md 2)."""


def is_working_day(day: date) -> bool:
    """Whether *day* is a working day in mainland China, adjusted weekends included.

    Raises :class:`ConfigError` for a year the installed calendar does not cover.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise ConfigError(
            f"the installed chinesecalendar knows no working days of {day.year} "
            f"({exc}); upgrade it (pip install -U chinesecalendar) and run again"
        ) from exc


def working_days_after(changed: date, applied: date) -> int:
    """How many working days follow *changed* up to and including *applied*.

    The day of the change itself does not count: a change on a Friday applied the
    next Monday took one working day. Zero when *applied* is not after *changed*.
    """
    count = 0
    day = changed + timedelta(days=1)
    while day <= applied:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def applied_late(
    changed: date, applied: date, limit: int = APPLY_LIMIT_WORKING_DAYS
) -> bool:
    """Whether applying on *applied* broke the rule for a change made on *changed*."""
    return working_days_after(changed, applied) > limit
