"""Time conversions do not depend on the process time zone; month arithmetic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest

from bridge.events import ChangeEvent
from bridge.map import Mapping
from bridge.map.results import TargetRow
from bridge.map.timeconv import add_months, local_to_utc, utc_to_local, zone


@pytest.fixture(params=["UTC", "Asia/Shanghai", "America/New_York"])
def process_zone(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_conversions_are_identical_under_any_process_zone(process_zone: str) -> None:
    shanghai = zone("Asia/Shanghai")
    local = datetime(2024, 6, 15, 0, 0, 0, 1)

    assert local_to_utc(local, shanghai) == datetime(
        2024, 6, 14, 16, 0, 0, 1, tzinfo=UTC
    )
    assert (
        utc_to_local(datetime(2024, 6, 14, 16, 0, 0, 1, tzinfo=UTC), shanghai) == local
    )


def test_mapped_row_is_identical_under_any_process_zone(
    process_zone: str, xyzg_to_gsxt: Mapping, event: Callable[..., ChangeEvent]
) -> None:
    row = {
        "xf_bh": "XF-1", "xdr_mc": "甲", "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "914403001922038216", "cf_wsh_gf": "沪浦市监处〔2024〕1号",
        "xf_lx": "04", "jdfk_bz": True, "xf_jdwh": None, "xf_rq": date(2024, 6, 15),
        "xf_jdsj": datetime(2024, 6, 14, 16, 0, tzinfo=UTC), "xf_dw": None,
        "xf_dwdm": None,
        "zzgs_sj": datetime(2024, 6, 14, 23, 59, 59, 999999, tzinfo=UTC),
        "sjly": "XYZG", "dfbm": "310000",
    }  # fmt: skip

    result = xyzg_to_gsxt.apply(event("c", after=row))

    assert isinstance(result, TargetRow)
    assert result.values["REPDATE"] == datetime(2024, 6, 15, 0, 0)
    assert result.values["REPDECTIME"] == datetime(2024, 6, 15, 0, 0)
    assert result.values["STOPPUBTIME"] == datetime(2024, 6, 15, 7, 59, 59, 999999)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 6, 15), 36, date(2027, 6, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
    ],
)
def test_add_months_counts_calendar_months(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


def test_c03_shanghai_datetime_declared_local_lands_as_the_instant(
    process_zone: str,
) -> None:
    # Pins CASES C03: a MySQL DATETIME the mapping declares Asia/Shanghai local time,
    # written to timestamptz, is 03:28:27 UTC; 19:28:27 and 11:28:27 UTC were shipped.
    created = datetime(2019, 3, 16, 11, 28, 27)

    assert local_to_utc(created, zone("Asia/Shanghai")) == datetime(
        2019, 3, 16, 3, 28, 27, tzinfo=UTC
    )
