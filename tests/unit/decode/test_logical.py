"""Every logical type, value by value, and the specs derived from catalog hints."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.decode import ColumnKind, ColumnType, DecodeSettings, json_equal
from bridge.decode.logical import FieldSpec, converter_for, spec_for_column

CLASSES = {
    "postgresql": "io.debezium.connector.postgresql.PostgresConnector",
    "mysql": "io.debezium.connector.mysql.MySqlConnector",
}
DBZ = "io.debezium.time."


def settings(connector: str = "postgresql", **config: str) -> DecodeSettings:
    return DecodeSettings.from_connector_config(
        "test", {"connector.class": CLASSES[connector], **config}
    )


def convert(
    spec: FieldSpec,
    value: Any,
    connector: str = "postgresql",
    hint: ColumnType | None = None,
    **config: str,
) -> Any:
    converter = converter_for(spec, settings(connector, **config), hint)
    return value if converter is None else converter(value)


def decimal(scale: int) -> FieldSpec:
    return FieldSpec(
        "bytes", "org.apache.kafka.connect.data.Decimal", {"scale": str(scale)}
    )


BIG_BASE64 = "CUmw9vACMxPESZBQ3jjzTg=="


@pytest.mark.parametrize(
    ("spec", "wire", "expected"),
    [
        (decimal(2), "AxY=", Decimal("7.90")),
        (decimal(2), "/2o=", Decimal("-1.50")),
        (decimal(4), "CSo=", Decimal("0.2346")),
        (decimal(0), "AA==", Decimal("0")),
        # 38 digits: more than the default decimal context's 28, so no rounding allowed.
        (decimal(6), BIG_BASE64, Decimal("12345678901234567890123456789012.345678")),
        (
            FieldSpec("struct", "io.debezium.data.VariableScaleDecimal"),
            {"scale": 3, "value": "AeI="},
            Decimal("0.482"),
        ),
        (FieldSpec("int32", DBZ + "Date"), 17971, date(2019, 3, 16)),
        (FieldSpec("int32", DBZ + "Date"), -719162, date(1, 1, 1)),
        (FieldSpec("int32", DBZ + "Date"), 2932896, date(9999, 12, 31)),
        (
            FieldSpec("int32", "org.apache.kafka.connect.data.Date"),
            19782,
            date(2024, 2, 29),
        ),
        (
            FieldSpec("int64", DBZ + "Timestamp"),
            -1,
            datetime(1969, 12, 31, 23, 59, 59, 999000),
        ),
        (
            FieldSpec("int64", DBZ + "MicroTimestamp"),
            -1,
            datetime(1969, 12, 31, 23, 59, 59, 999999),
        ),
        (
            FieldSpec("int64", DBZ + "NanoTimestamp"),
            1718454896123456000,
            datetime(2024, 6, 15, 12, 34, 56, 123456),
        ),
        (
            FieldSpec("int64", "org.apache.kafka.connect.data.Timestamp"),
            1527615379700,
            datetime(2018, 5, 29, 17, 36, 19, 700000),
        ),
        (FieldSpec("int32", DBZ + "Time"), 45296789, time(12, 34, 56, 789000)),
        (FieldSpec("int64", DBZ + "MicroTime"), 45296789012, time(12, 34, 56, 789012)),
        (
            FieldSpec("int64", DBZ + "NanoTime"),
            45296789012000,
            time(12, 34, 56, 789012),
        ),
        (
            FieldSpec("string", DBZ + "ZonedTimestamp"),
            "2019-03-16T11:28:27+08:00",
            datetime(2019, 3, 16, 3, 28, 27, tzinfo=UTC),
        ),
        (
            FieldSpec("string", DBZ + "ZonedTimestamp"),
            "2024-02-23T08:52:14.4314870Z",
            datetime(2024, 2, 23, 8, 52, 14, 431487, tzinfo=UTC),
        ),
        (
            FieldSpec("string", DBZ + "ZonedTime"),
            "08:52:14.431487Z",
            time(8, 52, 14, 431487, tzinfo=UTC),
        ),
        (
            FieldSpec("string", DBZ + "ZonedTime"),
            "16:52:14+08:00",
            time(8, 52, 14, tzinfo=UTC),
        ),
        (
            FieldSpec("int64", DBZ + "MicroDuration"),
            90061000001,
            timedelta(days=1, hours=1, minutes=1, seconds=1, microseconds=1),
        ),
        (
            FieldSpec("string", DBZ + "Interval"),
            "P1Y2M3DT4H5M6.78S",
            "P1Y2M3DT4H5M6.78S",
        ),
        (FieldSpec("int32", DBZ + "Year"), 2024, 2024),
        (FieldSpec("string", "io.debezium.data.Json"), '{"a": 1}', '{"a": 1}'),
        (FieldSpec("string", "io.debezium.data.Enum"), "A", "A"),
        (FieldSpec("string", "io.debezium.data.EnumSet"), "b,a", ("b", "a")),
        (FieldSpec("string", "io.debezium.data.EnumSet"), "", ()),
        (
            FieldSpec("string", "io.debezium.data.Uuid"),
            "0B2A51E4-3C34-4F8B-9D3A-5C1E2F3A4B5C",
            uuid.UUID("0b2a51e4-3c34-4f8b-9d3a-5c1e2f3a4b5c"),
        ),
        (FieldSpec("bytes", "io.debezium.data.Bits"), "AQ==", b"\x01"),
        (FieldSpec("bytes"), "3q2+7w==", b"\xde\xad\xbe\xef"),
        (FieldSpec("boolean"), True, True),
        (FieldSpec("int64"), -9223372036854775808, -9223372036854775808),
        (FieldSpec("double"), 0.1, 0.1),
        (FieldSpec("string"), "kiss 💋 name 𠮷田", "kiss 💋 name 𠮷田"),
    ],
    ids=lambda v: (
        v.name.rsplit(".", 1)[-1] if isinstance(v, FieldSpec) and v.name else None
    ),
)
def test_logical_types(spec: FieldSpec, wire: Any, expected: Any) -> None:
    assert convert(spec, wire) == expected
    assert type(convert(spec, wire)) is type(expected)


@pytest.mark.parametrize(
    ("name", "wire", "expected"),
    [
        (
            "MicroTime",
            45296789012,
            timedelta(hours=12, minutes=34, seconds=56, microseconds=789012),
        ),
        ("MicroTime", -3020399000000, -timedelta(hours=838, minutes=59, seconds=59)),
        ("MicroTime", 90000000000, timedelta(hours=25)),
        ("Time", 1000, timedelta(seconds=1)),
    ],
)
def test_mysql_time_is_a_signed_duration(
    name: str, wire: int, expected: timedelta
) -> None:
    assert convert(FieldSpec("int64", DBZ + name), wire, "mysql") == expected


@pytest.mark.parametrize(
    ("spec", "wire", "message"),
    [
        (decimal(2), "not base64!", "'not base64!' is not base64"),
        (decimal(2), 790, "expected base64 text, got 790"),
        (FieldSpec("int32", DBZ + "Date"), "17971", "expected an integer, got '17971'"),
        # Pins: JSON true taken for the integer 1 (bool is an int in Python).
        (FieldSpec("int32", DBZ + "Date"), True, "expected an integer, got True"),
        (
            FieldSpec("int64", DBZ + "Timestamp"),
            1.5e12,
            "expected an integer, got 1500000000000.0",
        ),
        (
            FieldSpec("int64", DBZ + "NanoTimestamp"),
            1718454896123456789,
            "1718454896123456789 ns is not a whole number of microseconds",
        ),
        (
            FieldSpec("int64", DBZ + "MicroTime"),
            86400000000,
            "86400000000 us is not a time of day (below 24:00)",
        ),
        (
            FieldSpec("string", DBZ + "ZonedTimestamp"),
            "2024-02-23T08:52:14.4314871Z",
            "'2024-02-23T08:52:14.4314871Z' has sub-microsecond digits",
        ),
        (
            FieldSpec("string", DBZ + "ZonedTimestamp"),
            "2024-02-23T08:52:14",
            "'2024-02-23T08:52:14' has no zone offset",
        ),
        (
            FieldSpec("string", DBZ + "ZonedTimestamp"),
            "infinity",
            "'infinity' is not an ISO-8601 instant",
        ),
        (FieldSpec("string", "io.debezium.data.Uuid"), "xyz", "'xyz' is not a UUID"),
    ],
)
def test_values_that_do_not_fit_are_refused(
    spec: FieldSpec, wire: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=r"^") as caught:
        convert(spec, wire)

    assert str(caught.value).startswith(message)


def test_date_out_of_range_is_refused() -> None:
    with pytest.raises(OverflowError):
        convert(FieldSpec("int32", DBZ + "Date"), 2932897 + 365 * 10_000_000)


@pytest.mark.parametrize(
    ("mode", "wire"),
    [
        ("bytes", "3q2+7w=="),
        ("base64", "3q2+7w=="),
        ("base64-url-safe", "3q2-7w=="),
        ("hex", "deadbeef"),
    ],
)
def test_binary_handling_modes(mode: str, wire: str) -> None:
    hint = ColumnType(ColumnKind.BINARY)
    spec = spec_for_column(hint, settings(**{"binary.handling.mode": mode}))

    assert convert(spec, wire, hint=hint, **{"binary.handling.mode": mode}) == (
        b"\xde\xad\xbe\xef"
    )


def test_unsigned_bigint_in_long_mode_unwraps_javas_long() -> None:
    """Pins: BIGINT UNSIGNED 18446744073709551615 read as -1."""
    hint = ColumnType(ColumnKind.UNSIGNED_BIGINT)

    assert convert(FieldSpec("int64"), -1, "mysql", hint) == 2**64 - 1
    assert convert(FieldSpec("int64"), 42, "mysql", hint) == 42


def test_unsigned_bigint_in_precise_mode_is_an_int() -> None:
    hint = ColumnType(ColumnKind.UNSIGNED_BIGINT)
    mode = {"bigint.unsigned.handling.mode": "precise"}
    spec = spec_for_column(hint, settings("mysql", **mode))

    assert convert(spec, "AP//////////", "mysql", hint, **mode) == 2**64 - 1


def test_decimal_string_mode_needs_the_hint() -> None:
    hint = ColumnType(ColumnKind.DECIMAL, precision=24, scale=6)

    assert convert(FieldSpec("string"), "123.450000", hint=hint) == Decimal(
        "123.450000"
    )
    assert convert(FieldSpec("string"), "NaN", hint=hint).is_nan()
    # Without a hint a plain string is text: the decoder never guesses.
    assert convert(FieldSpec("string"), "123.450000") == "123.450000"


def test_json_equal_compares_parsed_values() -> None:
    assert json_equal('{"a":1,"b":[1,2]}', '{"b": [1, 2], "a": 1}')
    assert not json_equal('{"a":1}', '{"a":1.5}')
    assert json_equal(None, None)
    assert not json_equal("{}", None)


MICRO_MODE = {"time.precision.mode": "adaptive_time_microseconds"}


@pytest.mark.parametrize(
    ("column", "config", "expected"),
    [
        (ColumnType(ColumnKind.DATE), {}, FieldSpec("int32", DBZ + "Date")),
        (
            ColumnType(ColumnKind.TIMESTAMP, 0),
            {},
            FieldSpec("int64", DBZ + "Timestamp"),
        ),
        (
            ColumnType(ColumnKind.TIMESTAMP, 3),
            {},
            FieldSpec("int64", DBZ + "Timestamp"),
        ),
        (
            ColumnType(ColumnKind.TIMESTAMP, 4),
            {},
            FieldSpec("int64", DBZ + "MicroTimestamp"),
        ),
        (
            ColumnType(ColumnKind.TIMESTAMP, 6),
            MICRO_MODE,
            FieldSpec("int64", DBZ + "MicroTimestamp"),
        ),
        (ColumnType(ColumnKind.TIME, 3), {}, FieldSpec("int64", DBZ + "Time")),
        (ColumnType(ColumnKind.TIME, 6), {}, FieldSpec("int64", DBZ + "MicroTime")),
        (
            ColumnType(ColumnKind.TIME, 0),
            MICRO_MODE,
            FieldSpec("int64", DBZ + "MicroTime"),
        ),
        (
            ColumnType(ColumnKind.TIMESTAMP_TZ, 6),
            {},
            FieldSpec("string", DBZ + "ZonedTimestamp"),
        ),
        (ColumnType(ColumnKind.TIME_TZ, 6), {}, FieldSpec("string", DBZ + "ZonedTime")),
        (
            ColumnType(ColumnKind.INTERVAL),
            {},
            FieldSpec("int64", DBZ + "MicroDuration"),
        ),
        (
            ColumnType(ColumnKind.INTERVAL),
            {"interval.handling.mode": "string"},
            FieldSpec("string", DBZ + "Interval"),
        ),
        (
            ColumnType(ColumnKind.DECIMAL, 10, 2),
            {},
            FieldSpec("bytes", "org.apache.kafka.connect.data.Decimal", {"scale": "2"}),
        ),
        (
            ColumnType(ColumnKind.DECIMAL),
            {},
            FieldSpec("struct", "io.debezium.data.VariableScaleDecimal"),
        ),
        (
            ColumnType(ColumnKind.DECIMAL, 10, 2),
            {"decimal.handling.mode": "string"},
            FieldSpec("string"),
        ),
        (ColumnType(ColumnKind.INTEGER), {}, FieldSpec("int64")),
        (ColumnType(ColumnKind.TEXT), {}, FieldSpec("string")),
        (
            ColumnType(ColumnKind.SET),
            {},
            FieldSpec("string", "io.debezium.data.EnumSet"),
        ),
    ],
)
def test_specs_from_hints_follow_debeziums_choice(
    column: ColumnType, config: dict[str, str], expected: FieldSpec
) -> None:
    assert spec_for_column(column, settings(**config)) == expected


def test_a_temporal_hint_without_precision_is_refused() -> None:
    """Pins: guessing milliseconds versus microseconds from a missing precision."""
    with pytest.raises(ValueError) as caught:
        spec_for_column(
            ColumnType(ColumnKind.TIMESTAMP, sql_type="datetime"), settings()
        )

    assert str(caught.value) == (
        "the column type hint (datetime) has no fractional-second precision, "
        "so the time unit is unknown"
    )
