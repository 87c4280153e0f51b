"""``bridge.map.preview``: rows from JSON and why a round trip differs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bridge.errors import ConfigError
from bridge.map import Mapping
from bridge.map.preview import (
    Difference,
    absent_keys,
    preview_row,
    row_count,
    row_from_json,
    unread_keys,
)

NECIPS_ROW: dict[str, Any] = {
    "REPAIRNO": "XF-GSXT-520000-20240902-0042",
    "UNISCID": "92520102MA8H7LTP12",
    "ENTNAME": "贵阳市南明区李记粉面馆",
    "REPAIRTYPE": 7,
    "PENDECNO": "南市监处〔2024〕35号",
    "REPDECNO": None,
    "REPDECORG_CN": None,
    "REPDECORG_USCC": None,
    "REPDATE": datetime(2024, 9, 2),
    "REPDECTIME": datetime(2024, 9, 2, 7, 59, 59, 999999),
    "STOPPUBTIME": None,
    "SRCSYS": "01",
    "S_EXT_NODENUM": "520000",
}


def test_a_canonical_row_round_trips_identically(gsxt_to_xyzg: Mapping) -> None:
    result = preview_row(gsxt_to_xyzg, NECIPS_ROW)

    assert result.identical
    assert result.explained == []


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        (
            "PENDECNO",
            "南市监处［2024］35号",
            "fold_decision_number (cf_wsh_gf) normalises it one way, and the reversed "
            "value maps to the same cf_wsh_gf",
        ),
        (
            "UNISCID",
            "92520102ma8h7ltp12",
            "uscc (xdr_shxym) normalises it one way, and the reversed value maps to "
            "the same xdr_lb, xdr_shxym",
        ),
        (
            "REPAIRTYPE",
            2,
            "map (xf_lx) normalises it one way, and the reversed value maps to the "
            "same xf_lx, jdfk_bz",
        ),
        (
            "REPDATE",
            datetime(2024, 9, 2, 10, 30),
            "local_datetime_to_date (xf_rq) normalises it one way, and the reversed "
            "value maps to the same xf_rq",
        ),
    ],
)
def test_a_one_way_normalisation_is_an_expected_difference(
    gsxt_to_xyzg: Mapping, column: str, value: Any, why: str
) -> None:
    """Pins: folded brackets in PENDECNO shown as a bare "differs", like a bug."""
    result = preview_row(gsxt_to_xyzg, {**NECIPS_ROW, column: value})

    assert result.differences == [column]
    assert result.explained == [Difference(column, True, why)]
    assert result.as_expected


def test_json_dates_and_instants_are_typed() -> None:
    row = row_from_json('{"a": "2024-06-15", "b": "2024-06-15T00:00:00", "c": 1.50}')

    assert [type(v).__name__ for v in row.values()] == ["date", "datetime", "Decimal"]


def test_json_impossible_dates_are_all_named() -> None:
    with pytest.raises(ConfigError) as caught:
        row_from_json('{"xf_rq": "2025-13-01", "ok": "x", "d": "2025-02-29"}')

    assert str(caught.value) == (
        "--row xf_rq: '2025-13-01' is not a valid date (month must be in 1..12)\n"
        "--row d: '2025-02-29' is not a valid date (day is out of range for month)"
    )


@pytest.mark.parametrize("count", [0, -1])
def test_row_count_must_be_positive(count: int) -> None:
    with pytest.raises(ConfigError) as caught:
        row_count(count)

    assert str(caught.value) == (
        f"--from-db takes the number of rows to preview, 1 or more; got {count}"
    )


def test_unread_keys_names_typos_and_suggests(xyzg_to_gsxt: Mapping) -> None:
    assert unread_keys(xyzg_to_gsxt, {"xf_bh": 1, "xdr_shxymm": 2}) == (
        "--row gives a column this mapping does not read: xdr_shxymm (did you mean "
        "xdr_shxym?)"
    )
    assert unread_keys(xyzg_to_gsxt, {"xf_bh": 1, "jdfk_bz": True}) is None


def test_absent_keys_names_every_column_a_hand_written_row_lacks(
    xyzg_to_gsxt: Mapping,
) -> None:
    """Pins: a --row short of several columns rejected for one column per run."""
    full = {name: None for c in xyzg_to_gsxt.columns for name in c.reads}
    full |= {name: None for f in xyzg_to_gsxt.filters for name in f.reads}
    short = {k: v for k, v in full.items() if k not in ("xdr_mc", "xf_lx", "dfbm")}

    assert absent_keys(xyzg_to_gsxt, short) == (
        "--row lacks columns this mapping reads: dfbm, xdr_mc, xf_lx (one without a "
        "default: in the mapping rejects the row)"
    )
    assert absent_keys(xyzg_to_gsxt, full) is None
