"""Each named transform on its own: exact outputs, exact rejection reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from bridge.map import expressions, transforms
from bridge.map.transforms import CompileContext, RowRejected, Step

CTX = CompileContext(zone="Asia/Shanghai", compile_expr=expressions.compile_expression)
BIGINT_UNSIGNED_MAX = 18_446_744_073_709_551_615


def step(name: str, params: Any = None) -> Step:
    return transforms.build(name, params, CTX)


def forward(name: str, value: Any, params: Any = None, row: Any = None) -> Any:
    return step(name, params).forward(value, row or {})


def rejected(name: str, value: Any, params: Any = None, row: Any = None) -> str:
    with pytest.raises(RowRejected) as caught:
        forward(name, value, params, row)
    return caught.value.reason


FEN_TO_WAN = {"from": "fen", "to": "万元"}
WAN_TO_FEN = {"from": "万元", "to": "fen", "min": 0, "max": BIGINT_UNSIGNED_MAX}


@pytest.mark.parametrize(
    ("fen", "wan_yuan"),
    [
        (None, None),
        (0, Decimal("0.000000")),
        (1, Decimal("0.000001")),
        (5_000_000_000, Decimal("5000.000000")),
        (123_456_789, Decimal("123.456789")),
        (BIGINT_UNSIGNED_MAX, Decimal("18446744073709.551615")),
    ],
)
def test_fen_and_wan_yuan_convert_exactly_both_ways(
    fen: int | None, wan_yuan: Decimal | None
) -> None:
    assert forward("scale", fen, FEN_TO_WAN) == wan_yuan
    assert forward("scale", wan_yuan, WAN_TO_FEN) == fen
    if wan_yuan is not None:
        assert str(forward("scale", fen, FEN_TO_WAN)) == str(wan_yuan)
        assert type(forward("scale", wan_yuan, WAN_TO_FEN)) is int


def test_scale_inverse_is_the_way_back() -> None:
    scale = step("scale", WAN_TO_FEN)
    assert scale.inverse is not None
    assert scale.inverse(1_500_000, {}) == Decimal("1.500000")


def test_wan_yuan_with_a_seventh_decimal_is_rejected_not_rounded() -> None:
    assert rejected("scale", Decimal("1.0000001"), WAN_TO_FEN) == (
        "1.0000001 万元 is 1000000.1 fen, which needs more than 0 decimal places; it "
        "is not converted by rounding"
    )


def test_a_seventh_decimal_zero_is_exact() -> None:
    assert forward("scale", Decimal("1.2345670"), WAN_TO_FEN) == 1_234_567


def test_fen_above_bigint_unsigned_is_rejected() -> None:
    assert rejected("scale", Decimal("18446744073709.551616"), WAN_TO_FEN) == (
        "18446744073709.551616 万元 is 18446744073709551616 fen, outside the allowed "
        "range 0 to 18446744073709551615"
    )


def test_negative_fen_is_rejected_by_the_declared_minimum() -> None:
    assert rejected("scale", Decimal("-0.000001"), WAN_TO_FEN) == (
        "-0.000001 万元 is -1 fen, outside the allowed range 0 to 18446744073709551615"
    )


@pytest.mark.parametrize(
    ("value", "got"),
    [(1.5, "float 1.5"), (True, "boolean True"), ("1.5", "text '1.5'")],
)
def test_scale_refuses_floats_and_other_types(value: Any, got: str) -> None:
    assert rejected("scale", value, FEN_TO_WAN) == (
        f"scale expects an integer or Decimal amount, got {got}; floats are refused "
        "because they are not exact"
    )


def test_scale_refuses_nan() -> None:
    assert rejected("scale", Decimal("NaN"), FEN_TO_WAN) == (
        "scale got NaN, which is not a finite amount"
    )


def test_fen_to_yuan_keeps_two_places() -> None:
    assert str(forward("scale", 790, {"from": "fen", "to": "yuan"})) == "7.90"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (None, "scale needs 'from' and 'to' units, e.g. {from: 万元, to: fen}"),
        (
            {"from": "fen", "to": "dollars"},
            "unknown unit 'dollars'; use one of fen, 分, yuan, 元, wan_yuan, 万元",
        ),
        (
            {"from": "fen", "to": "yuan", "round": True},
            "unknown parameter 'round' of scale",
        ),
    ],
)
def test_scale_parameter_errors(params: Any, message: str) -> None:
    with pytest.raises(transforms.TransformParamError) as caught:
        step("scale", params)
    assert caught.value.message == message


# --- time -------------------------------------------------------------------------


def test_utc_instant_to_shanghai_wall_clock_keeps_microseconds() -> None:
    instant = datetime(2024, 6, 14, 16, 0, 0, 123456, tzinfo=UTC)
    assert forward("utc_to_local", instant) == datetime(2024, 6, 15, 0, 0, 0, 123456)


def test_local_midnight_is_1600_utc_the_day_before() -> None:
    local = datetime(2024, 6, 15, 0, 0, 0)
    assert forward("local_to_utc", local) == datetime(2024, 6, 14, 16, 0, tzinfo=UTC)


def test_an_instant_in_another_offset_is_converted_by_its_offset() -> None:
    instant = datetime(
        2024, 2, 23, 16, 52, 14, 431487, tzinfo=timezone(timedelta(hours=8))
    )
    assert forward("utc_to_local", instant, {"zone": "UTC"}) == datetime(
        2024, 2, 23, 8, 52, 14, 431487
    )


def test_utc_to_local_refuses_a_naive_datetime() -> None:
    assert rejected("utc_to_local", datetime(2024, 6, 15)) == (
        "utc_to_local: 2024-06-15T00:00:00 has no time zone; expected an instant; got "
        "date-time 2024-06-15 00:00:00"
    )


def test_local_to_utc_refuses_an_aware_datetime() -> None:
    assert rejected("local_to_utc", datetime(2024, 6, 15, tzinfo=UTC)) == (
        "local_to_utc: 2024-06-15T00:00:00+00:00 already has a time zone; expected "
        "wall-clock time; got date-time 2024-06-15 00:00:00+00:00"
    )


def test_utc_to_local_refuses_text() -> None:
    assert rejected("utc_to_local", "2024-06-15T00:00:00Z") == (
        "utc_to_local: expects a datetime; got text '2024-06-15T00:00:00Z'"
    )


def test_dates_never_go_through_utc() -> None:
    assert forward("date_to_local_midnight", date(2024, 6, 15)) == datetime(2024, 6, 15)
    assert forward("local_datetime_to_date", datetime(2024, 6, 15, 23, 59, 59)) == date(
        2024, 6, 15
    )
    assert forward("local_datetime_to_date", datetime(2024, 6, 15, 0, 0)) == date(
        2024, 6, 15
    )


def test_date_to_local_midnight_refuses_a_datetime() -> None:
    assert rejected("date_to_local_midnight", datetime(2024, 6, 15, 8, 0)) == (
        "date_to_local_midnight: 2024-06-15T08:00:00 is a date-time; expected a date; "
        "got date-time 2024-06-15 08:00:00"
    )


def test_zone_parameter_must_exist() -> None:
    with pytest.raises(transforms.TransformParamError) as caught:
        step("utc_to_local", {"zone": "Asia/Beijing"})
    assert caught.value.message == (
        "time zone 'Asia/Beijing' is not in the IANA zone database; name one such as "
        "'Asia/Shanghai'"
    )
    assert caught.value.path == ("zone",)


# --- booleans, text, ids ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(0, False), (1, True), (2, True), (-1, True), (None, None)]
)
def test_bool_from_int_is_false_only_for_zero(value: int | None, expected: Any) -> None:
    # C07: MySQL TINYINT(1) 2 and -1 are true.
    assert forward("bool_from_int", value) is expected


@pytest.mark.parametrize(("value", "expected"), [(True, 1), (False, 0), (None, None)])
def test_int_from_bool(value: bool | None, expected: int | None) -> None:
    assert forward("int_from_bool", value) == expected


def test_bool_from_int_refuses_text() -> None:
    assert (
        rejected("bool_from_int", "1")
        == "bool_from_int expects an integer, got text '1'"
    )


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ("yesterday", "text 'yesterday'"),
        (datetime(2025, 12, 1, 14, 20), "date-time 2025-12-01 14:20:00"),
        (date(2025, 12, 1), "date 2025-12-01"),
        (Decimal("1.50"), "decimal 1.50"),
        ([1], "list [1]"),
    ],
)
def test_a_refused_value_is_shown_plainly(value: Any, got: str) -> None:
    """Pins: `got str 'yesterday'`, `got datetime datetime.datetime(2025, 12, ...)`."""
    assert transforms._describe(value) == got


def test_text_transforms() -> None:
    assert forward("trim", "\u3000 abc \t") == "abc"
    assert forward("upper", "91abc") == "91ABC"
    assert forward("nfkc", "ＡＢＣ１２３") == "ABC123"
    assert forward("mask_id", " 520102199001013128 ") == "520102********3128"
    assert rejected("trim", 5) == "trim expects text, got integer 5"


def test_required_rejects_null() -> None:
    assert rejected("required", None) == "the value is NULL, but the column is required"


# --- value maps -------------------------------------------------------------------


def test_map_is_type_strict() -> None:
    codes = {"values": {1: "一", "2": "二"}}
    assert forward("map", 1, codes) == "一"
    assert rejected("map", "1", codes) == "value '1' is not in the value map"
    assert rejected("map", True, codes) == "value True is not in the value map"
    assert forward("map", "2", codes) == "二"


def test_map_null_stays_null_unless_mapped() -> None:
    assert forward("map", None, {"values": {"A": 1}}) is None
    assert forward("map", None, {"values": {"A": 1, None: 0}}) == 0


def test_map_default_applies_to_unmapped_values() -> None:
    assert forward("map", "Q", {"values": {"A": 1}, "default": 9}) == 9


def test_one_to_one_map_has_an_inverse_many_to_one_has_none() -> None:
    one_to_one = step("map", {"values": {"N": 0, "A": 1}})
    many_to_one = step("map", {"values": {1: "03", 2: "03"}})
    with_default = step("map", {"values": {"N": 0}, "default": 9})
    assert one_to_one.inverse is not None
    assert one_to_one.inverse(1, {}) == "A"
    assert many_to_one.inverse is None
    assert with_default.inverse is None


def test_map_value_computed_from_the_row() -> None:
    kinds = {"values": {"04": {"expr": "5 if jdfk_bz else 6"}, "01": 4}}
    assert forward("map", "04", kinds, {"jdfk_bz": True}) == 5
    assert forward("map", "04", kinds, {"jdfk_bz": False}) == 6
    assert step("map", kinds).inverse is None
    assert step("map", kinds).row_names == frozenset({"jdfk_bz"})


def test_map_parameter_errors() -> None:
    with pytest.raises(transforms.TransformParamError) as caught:
        step("map", {"01": 4})
    assert caught.value.message == "map needs 'values': a mapping of source to target"


def test_wall_clock_time_inside_a_daylight_saving_gap_is_refused() -> None:
    # Asia/Shanghai skipped 02:00-03:00 on 1986-05-04; never shift it silently.
    assert rejected("local_to_utc", datetime(1986, 5, 4, 2, 30)) == (
        "local_to_utc: 1986-05-04T02:30:00 does not exist in Asia/Shanghai (the "
        "clocks skipped it); got date-time 1986-05-04 02:30:00"
    )


def test_instant_beyond_the_calendar_after_shifting_is_rejected() -> None:
    reason = rejected("utc_to_local", datetime(9999, 12, 31, 20, 0, tzinfo=UTC))
    assert reason == (
        "utc_to_local: date value out of range; got date-time "
        "9999-12-31 20:00:00+00:00"
    )
