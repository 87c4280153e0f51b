"""Map then reverse gives back the original for every column declared invertible."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map import Mapping
from bridge.map.codes import USCC_ALPHABET, uscc_check_character
from bridge.map.results import TargetRow

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

uscc = st.text(USCC_ALPHABET, min_size=17, max_size=17).map(
    lambda body: body + uscc_check_character(body)
)
names = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
optional_names = st.none() | names
outcome_numbers = st.text("ABCDEFGHXYZ0123456789-", min_size=1, max_size=40)
provinces = st.from_regex(r"[1-6][0-9]0000", fullmatch=True)
instants = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2999, 12, 31),
    timezones=st.just(UTC),
)
wall_clock = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)
)


def credit_china_outcome() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "xf_bh": outcome_numbers,
            "xdr_mc": names,
            "xdr_lb": st.sampled_from(["法人及非法人组织", "个体工商户"]),
            "xdr_shxym": uscc,
            "xdr_zjhm": st.none(),
            "cf_wsh_gf": st.just("沪浦市监处〔2024〕123号"),
            "xf_lx": st.sampled_from(["01", "02", "03", "04", "05"]),
            "jdfk_bz": st.booleans(),
            "xf_jdwh": optional_names,
            "xf_rq": st.dates(),
            "xf_jdsj": st.none() | instants,
            "xf_dw": optional_names,
            "xf_dwdm": st.none() | uscc,
            "zzgs_sj": st.none() | instants,
            "sjly": st.just("XYZG"),
            "dfbm": provinces,
        }
    )


def necips_outcome() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "REPAIRNO": outcome_numbers,
            "UNISCID": uscc,
            "ENTNAME": names,
            "REPAIRTYPE": st.integers(1, 7),
            "PENDECNO": st.just("沪浦市监处[2024]123号"),
            "REPDECNO": optional_names,
            "REPDECORG_CN": optional_names,
            "REPDECORG_USCC": st.none() | uscc,
            "REPDATE": wall_clock,
            # After 1991: Asia/Shanghai wall-clock times before that may fall in a
            # daylight-saving gap, which local_to_utc refuses (tested on its own).
            "REPDECTIME": st.none() | wall_clock.filter(lambda t: t.year > 1991),
            "STOPPUBTIME": st.none() | wall_clock.filter(lambda t: t.year > 1991),
            "SRCSYS": st.just("01"),
            "S_EXT_NODENUM": provinces,
        }
    )


def necips_penalty() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "CASEID": outcome_numbers,
            "UNISCID": uscc,
            "ENTNAME": names,
            "ENTCATG": st.integers(1, 3),
            "PENDECNO": st.just("沪浦市监处[2024]123号"),
            "PENTYPE": optional_names,
            "PENAM_FEN": st.none() | st.integers(0, 2**64 - 1),
            "PENDECISSDATE": wall_clock,
            "PENAUTH_CN": optional_names,
            "PENAUTH_USCC": st.none() | uscc,
            "PUBSTATE": st.sampled_from(["N", "A", "S", "E", "R"]),
            "S_EXT_NODENUM": provinces,
        }
    )


def _round_trip(mapping: Mapping, row: dict[str, Any]) -> None:
    schema, table = mapping.source_table.split(".")
    event = ChangeEvent(
        Operation.CREATE,
        "test",
        schema,
        table,
        {},
        None,
        row,
        SourcePosition("t", (1,)),
    )
    result = mapping.apply(event)
    assert isinstance(result, TargetRow), result

    back = mapping.reverse(dict(result.values))

    for column in mapping.columns:
        if column.invertible:
            assert column.source is not None
            original, returned = row[column.source], back[column.source]
            assert (type(returned), returned) == (type(original), original), (
                column.target
            )


@PROPERTY
@given(row=credit_china_outcome())
def test_credit_china_outcomes_round_trip(
    xyzg_to_gsxt: Mapping, row: dict[str, Any]
) -> None:
    _round_trip(xyzg_to_gsxt, row)


@PROPERTY
@given(row=necips_outcome())
def test_necips_outcomes_round_trip(gsxt_to_xyzg: Mapping, row: dict[str, Any]) -> None:
    _round_trip(gsxt_to_xyzg, row)


@PROPERTY
@given(row=necips_penalty())
def test_necips_penalties_round_trip(
    gsxt_cases_to_xyzg: Mapping, row: dict[str, Any]
) -> None:
    _round_trip(gsxt_cases_to_xyzg, row)


@PROPERTY
@given(row=credit_china_outcome())
def test_outcome_kind_and_fine_flag_round_trip_for_credit_china_rows(
    xyzg_to_gsxt: Mapping, row: dict[str, Any]
) -> None:
    # Not derived but stated in the file: xf_lx (and jdfk_bz for expiries) come back.
    event = ChangeEvent(
        Operation.CREATE,
        "test",
        "xyzg",
        "xyxf_jg",
        {},
        None,
        row,
        SourcePosition("t", (1,)),
    )
    result = xyzg_to_gsxt.apply(event)
    assert isinstance(result, TargetRow)

    back = xyzg_to_gsxt.reverse(dict(result.values))

    assert back["xf_lx"] == row["xf_lx"]
    if row["xf_lx"] == "04":
        assert back["jdfk_bz"] is row["jdfk_bz"]
