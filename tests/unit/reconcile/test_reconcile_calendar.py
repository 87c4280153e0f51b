"""The 3-working-day rule by China's official calendar (DOMAIN.md section 2)."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from bridge.errors import ConfigError
from bridge.reconcile.calendar import applied_late, is_working_day, working_days_after

# 2026 Spring Festival: 15-23 February off, Saturday 14 and Saturday 28 worked.
# 2026 National Day: 1-7 October off, Sunday 20 September and Saturday 10 October
# worked.
WORKING_DAYS = [
    # changed, applied, working days after the change, late
    (date(2026, 3, 2), date(2026, 3, 2), 0, False),  # applied the same day
    (date(2026, 3, 5), date(2026, 3, 2), 0, False),  # applied before: none
    (date(2026, 3, 2), date(2026, 3, 5), 3, False),  # Mon -> Thu, plain week
    (date(2026, 3, 2), date(2026, 3, 6), 4, True),  # Mon -> Fri
    (date(2026, 3, 5), date(2026, 3, 10), 3, False),  # over a plain weekend
    (date(2026, 2, 13), date(2026, 2, 14), 1, False),  # adjusted working Saturday
    (date(2026, 2, 13), date(2026, 2, 23), 1, False),  # the holiday counts nothing
    (date(2026, 2, 13), date(2026, 2, 25), 3, False),  # Sat 14, Tue 24, Wed 25
    (date(2026, 2, 13), date(2026, 2, 26), 4, True),  # one working day too many
    (date(2026, 2, 15), date(2026, 2, 26), 3, False),  # changed on a holiday
    (date(2026, 9, 18), date(2026, 9, 20), 1, False),  # adjusted working Sunday
    (date(2026, 9, 30), date(2026, 10, 8), 1, False),  # National Day counts nothing
    (date(2026, 9, 30), date(2026, 10, 10), 3, False),  # Thu 8, Fri 9, Sat 10
    (date(2026, 9, 30), date(2026, 10, 12), 4, True),  # and Monday 12
]


@pytest.mark.parametrize(("changed", "applied", "days", "late"), WORKING_DAYS)
def test_working_days_after_a_change(
    changed: date, applied: date, days: int, late: bool
) -> None:
    assert working_days_after(changed, applied) == days
    assert applied_late(changed, applied) is late


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 14), True),  # Saturday worked for the Spring Festival
        (date(2026, 2, 16), False),  # Monday off
        (date(2026, 9, 20), True),  # Sunday worked for National Day
        (date(2026, 10, 10), True),
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 12, 4), True),  # an ordinary Friday
    ],
)
def test_working_day_by_the_official_calendar(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_a_year_the_calendar_does_not_cover_stops_the_report() -> None:
    with pytest.raises(NotImplementedError) as library:
        chinese_calendar.is_workday(date(2003, 6, 2))

    with pytest.raises(ConfigError) as raised:
        working_days_after(date(2003, 6, 1), date(2003, 6, 3))

    assert str(raised.value) == (
        f"the installed chinesecalendar knows no working days of 2003 "
        f"({library.value}); upgrade it (pip install -U chinesecalendar) and run "
        "again"
    )
