"""Time conversions between aware UTC instants, local wall-clock times and dates.

Credit China stores instants as ``timestamptz`` (UTC); NECIPS stores wall-clock
``DATETIME`` in Asia/Shanghai. Dates are calendar days on both sides and never pass
through UTC: 2024-06-15 stays 2024-06-15 whatever the process time zone is. Nothing
here reads the process time zone (``TZ``); every zone is named explicitly.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import ConfigError

_MIDNIGHT = time(0, 0)


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    """The IANA zone *name*; a ``ConfigError`` when the zone database lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"time zone {name!r} is not in the IANA zone database; "
            "name one such as 'Asia/Shanghai'"
        ) from exc


def utc_to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """An aware instant as naive wall-clock time in *tz*, microseconds kept."""
    if instant.tzinfo is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; expected an instant")
    return instant.astimezone(tz).replace(tzinfo=None)


def local_to_utc(wall_clock: datetime, tz: ZoneInfo) -> datetime:
    """Naive wall-clock time in *tz* as an aware UTC instant, microseconds kept.

    Daylight saving (Asia/Shanghai had it 1986-1991): an ambiguous wall-clock time is
    read by its ``fold`` (0, the first occurrence, for values read from a database);
    a wall-clock time inside a gap does not exist and is refused, never shifted.
    """
    if wall_clock.tzinfo is not None:
        raise ValueError(
            f"{wall_clock.isoformat()} already has a time zone; "
            "expected wall-clock time"
        )
    instant = wall_clock.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall_clock:
        raise ValueError(
            f"{wall_clock.isoformat()} does not exist in {tz.key} (the clocks "
            "skipped it)"
        )
    return instant


def date_to_local_midnight(day: date) -> datetime:
    """A calendar day as naive 00:00 of that day (``REPDATE`` style)."""
    if isinstance(day, datetime):
        raise ValueError(f"{day.isoformat()} is a date-time; expected a date")
    return datetime.combine(day, _MIDNIGHT)


def local_datetime_to_date(wall_clock: datetime) -> date:
    """The calendar day of a naive wall-clock time; never converted through UTC."""
    if wall_clock.tzinfo is not None:
        raise ValueError(
            f"{wall_clock.isoformat()} has a time zone; a calendar day is taken from "
            "wall-clock time only"
        )
    return wall_clock.date()


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic, clamped to the month's end.

    Three months after 2023-11-30 is 2024-02-29.

    Display periods (3 months, 3 years) are counted this way (DOMAIN.md section 2).
    """
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last_day))
