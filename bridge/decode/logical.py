"""Debezium logical types -> Python values, one converter per field, chosen once.

A field's *spec* (its Kafka Connect type, logical name and parameters) comes from the
record's schema, or, with schemas disabled, is derived from the column's catalog type
and the connector settings exactly as Debezium would have chosen it
(:func:`spec_for_column`). :func:`converter_for` then returns a one-argument function
for that field, or ``None`` when the JSON value already is the right Python value.
Converters never see ``None`` or the TOAST placeholder: the row decoder handles both.

What each logical type becomes:

==========================================  =========================================
``org.apache.kafka.connect.data.Decimal``   ``Decimal`` (base64 big-endian two's
                                            complement, scale from ``parameters``)
``io.debezium.data.VariableScaleDecimal``   ``Decimal`` from ``{"scale", "value"}``
decimal in ``string`` mode (catalog hint)   ``Decimal(text)``, NaN/Infinity included
``io.debezium.time.Date``, connect ``Date``  ``date`` from days since 1970-01-01,
                                            proleptic Gregorian, negative allowed
``Time``/``MicroTime``/``NanoTime``,        PostgreSQL: ``time``; MySQL: ``timedelta``
connect ``Time``                            (MySQL ``TIME`` is a signed duration)
``Timestamp``/``MicroTimestamp``/           naive ``datetime``: the wall-clock digits,
``NanoTimestamp``, connect ``Timestamp``    read as if UTC
``io.debezium.time.ZonedTimestamp``         aware ``datetime`` in UTC, microseconds kept
``io.debezium.time.ZonedTime``              aware ``time`` in UTC
``io.debezium.time.MicroDuration``          ``timedelta`` (Debezium's approximation)
``io.debezium.time.Interval``               ``str`` (ISO 8601 duration, unchanged)
``io.debezium.time.Year``                   ``int``
``io.debezium.data.Json``                   ``str`` exactly as sent (see ``json_equal``)
``io.debezium.data.Enum``                   ``str``
``io.debezium.data.EnumSet``                ``tuple[str, ...]`` in the sent order
``io.debezium.data.Uuid``                   ``uuid.UUID``
``io.debezium.data.Bits``, binary columns   ``bytes`` (per ``binary.handling.mode``)
MySQL ``BIGINT UNSIGNED`` (catalog hint)     ``int``; in ``long`` mode a negative value
                                            is Java's wrapped long and gets + 2**64
anything else                               the JSON value as it came
==========================================  =========================================

No converter uses a float or the process time zone: integer epochs go through
``timedelta`` arithmetic on integers, ISO strings through ``fromisoformat``.
Nanosecond values that are not whole microseconds are refused rather than rounded.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.decode.columns import ColumnKind, ColumnType
from bridge.decode.settings import MYSQL, DecodeSettings

Converter = Callable[[Any], Any]

DECIMAL = "org.apache.kafka.connect.data.Decimal"
CONNECT_DATE = "org.apache.kafka.connect.data.Date"
CONNECT_TIME = "org.apache.kafka.connect.data.Time"
CONNECT_TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
VARIABLE_SCALE_DECIMAL = "io.debezium.data.VariableScaleDecimal"
DATE = "io.debezium.time.Date"
TIME = "io.debezium.time.Time"
MICRO_TIME = "io.debezium.time.MicroTime"
NANO_TIME = "io.debezium.time.NanoTime"
TIMESTAMP = "io.debezium.time.Timestamp"
MICRO_TIMESTAMP = "io.debezium.time.MicroTimestamp"
NANO_TIMESTAMP = "io.debezium.time.NanoTimestamp"
ZONED_TIMESTAMP = "io.debezium.time.ZonedTimestamp"
ZONED_TIME = "io.debezium.time.ZonedTime"
MICRO_DURATION = "io.debezium.time.MicroDuration"
INTERVAL = "io.debezium.time.Interval"
YEAR = "io.debezium.time.Year"
JSON = "io.debezium.data.Json"
ENUM = "io.debezium.data.Enum"
ENUM_SET = "io.debezium.data.EnumSet"
UUID = "io.debezium.data.Uuid"
BITS = "io.debezium.data.Bits"

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1)
_MICROS_PER_DAY = 86_400_000_000
_UNSIGNED_WRAP = 1 << 64


class LogicalValueError(ValueError):
    """A value that does not fit its logical type; the row decoder adds the place."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field as Kafka Connect describes it: type, logical name, parameters."""

    type: str
    name: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any]) -> FieldSpec:
        return cls(
            type=str(schema.get("type", "")),
            name=schema.get("name"),
            parameters=schema.get("parameters") or {},
        )


def json_equal(left: str | None, right: str | None) -> bool:
    """True when two JSON texts hold the same value.

    MySQL renders ``JSON`` columns with different spacing in snapshot and streaming,
    so stored text is compared parsed.
    """
    if left is None or right is None:
        return left is right
    return bool(json.loads(left) == json.loads(right))


# --- integers, booleans, floats -------------------------------------------------


def _integer(value: Any) -> int:
    if value.__class__ is not int:
        raise LogicalValueError(f"expected an integer, got {value!r}")
    return int(value)


def _unsigned_from_long(value: Any) -> int:
    number = _integer(value)
    return number + _UNSIGNED_WRAP if number < 0 else number


def _unsigned_from_bytes(value: Any) -> int:
    return int.from_bytes(_base64(value), "big", signed=True)


def _float(value: Any) -> float:
    if value.__class__ is int:
        return float(value)
    if value.__class__ is not float:
        raise LogicalValueError(f"expected a number, got {value!r}")
    return float(value)


# --- decimals --------------------------------------------------------------------


def _base64(value: Any) -> bytes:
    if value.__class__ is not str:
        raise LogicalValueError(f"expected base64 text, got {value!r}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise LogicalValueError(f"{value!r} is not base64 ({exc})") from exc


def _scaled(unscaled: int, scale: int) -> Decimal:
    # Built from text: exact for any number of digits, no context rounding.
    return Decimal(f"{unscaled}e{-scale}")


def _fixed_scale_decimal(scale: int) -> Converter:
    def decode(value: Any) -> Decimal:
        unscaled = int.from_bytes(_base64(value), "big", signed=True)
        return _scaled(unscaled, scale)

    return decode


def _variable_scale_decimal(value: Any) -> Decimal:
    if not isinstance(value, Mapping) or "scale" not in value or "value" not in value:
        raise LogicalValueError(f"expected {{scale, value}}, got {value!r}")
    unscaled = int.from_bytes(_base64(value["value"]), "big", signed=True)
    return _scaled(unscaled, _integer(value["scale"]))


def _decimal_text(value: Any) -> Decimal:
    if value.__class__ is int:
        return Decimal(value)
    if value.__class__ is not str:
        raise LogicalValueError(f"expected a decimal string, got {value!r}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise LogicalValueError(f"{value!r} is not a decimal number") from exc


# --- dates and times -------------------------------------------------------------


# Days repeat across the rows of a stream (decision dates): a bounded cache of the
# date objects (immutable, so shared safely) saves the ordinal arithmetic.
_DAYS: dict[int, date] = {}
_DAYS_LIMIT = 4096


def _date_from_days(value: Any) -> date:
    if value.__class__ is int:
        cached = _DAYS.get(value)
        if cached is not None:
            return cached
    day = date.fromordinal(_EPOCH_ORDINAL + _integer(value))
    if len(_DAYS) < _DAYS_LIMIT:
        _DAYS[value] = day
    return day


def _wall_clock(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _timestamp_millis(value: Any) -> datetime:
    return _wall_clock(_integer(value) * 1000)


def _timestamp_micros(value: Any) -> datetime:
    return _wall_clock(_integer(value))


def _whole_micros(nanos: Any) -> int:
    micros, rest = divmod(_integer(nanos), 1000)
    if rest:
        raise LogicalValueError(f"{nanos} ns is not a whole number of microseconds")
    return micros


def _timestamp_nanos(value: Any) -> datetime:
    return _wall_clock(_whole_micros(value))


def _time_of_day(micros: int) -> time:
    if not 0 <= micros < _MICROS_PER_DAY:
        raise LogicalValueError(f"{micros} us is not a time of day (below 24:00)")
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, micro)


def _time_decoders(mysql: bool) -> dict[str, Converter]:
    # MySQL TIME is a signed duration up to 838:59:59; PyMySQL reads it as timedelta.
    def as_value(micros: int) -> time | timedelta:
        return timedelta(microseconds=micros) if mysql else _time_of_day(micros)

    return {
        TIME: lambda value: as_value(_integer(value) * 1000),
        CONNECT_TIME: lambda value: as_value(_integer(value) * 1000),
        MICRO_TIME: lambda value: as_value(_integer(value)),
        NANO_TIME: lambda value: as_value(_whole_micros(value)),
    }


_LONG_FRACTION = re.compile(r"\.\d{6}(\d+)")


def _check_fraction(text: str) -> None:
    """Refuse more than six fractional digits unless the rest are zeros:
    ``fromisoformat`` would silently drop them."""
    extra = _LONG_FRACTION.search(text)
    if extra is not None and extra.group(1).strip("0"):
        raise LogicalValueError(f"{text!r} has sub-microsecond digits")


def _zoned_timestamp(value: Any) -> datetime:
    if value.__class__ is not str:
        raise LogicalValueError(f"expected an ISO-8601 instant, got {value!r}")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LogicalValueError(f"{value!r} is not an ISO-8601 instant") from exc
    if instant.tzinfo is None:
        raise LogicalValueError(f"{value!r} has no zone offset")
    _check_fraction(value)
    return instant if instant.tzinfo is UTC else instant.astimezone(UTC)


def _zoned_time(value: Any) -> time:
    if value.__class__ is not str:
        raise LogicalValueError(f"expected an ISO-8601 time with offset, got {value!r}")
    try:
        parsed = time.fromisoformat(value)
    except ValueError as exc:
        raise LogicalValueError(f"{value!r} is not an ISO-8601 time") from exc
    offset = parsed.utcoffset()
    if offset is None:
        raise LogicalValueError(f"{value!r} has no zone offset")
    _check_fraction(value)
    if offset:
        moved = datetime.combine(date(2000, 1, 1), parsed).astimezone(UTC)
        return moved.timetz()
    return parsed.replace(tzinfo=UTC)


def _micro_duration(value: Any) -> timedelta:
    return timedelta(microseconds=_integer(value))


# --- text-like ---------------------------------------------------------------------


def _text(value: Any) -> str:
    if value.__class__ is not str:
        raise LogicalValueError(f"expected text, got {value!r}")
    return str(value)


def _enum_set(value: Any) -> tuple[str, ...]:
    text = _text(value)
    return tuple(text.split(",")) if text else ()


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(_text(value))
    except ValueError as exc:
        raise LogicalValueError(f"{value!r} is not a UUID") from exc


def _year(value: Any) -> int:
    return _integer(value)


# --- binary ------------------------------------------------------------------------


def _hex(value: Any) -> bytes:
    try:
        return bytes.fromhex(_text(value))
    except ValueError as exc:
        raise LogicalValueError(f"{value!r} is not hex") from exc


def _base64_url_safe(value: Any) -> bytes:
    try:
        return base64.b64decode(_text(value), altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise LogicalValueError(f"{value!r} is not url-safe base64 ({exc})") from exc


_BINARY = {
    "bytes": _base64,
    "base64": _base64,
    "base64-url-safe": _base64_url_safe,
    "hex": _hex,
}


def binary_placeholders(settings: DecodeSettings) -> frozenset[str]:
    """The forms the TOAST placeholder takes in a binary column.

    Debezium's PostgreSQL converter substitutes the placeholder's bytes in ``bytes``
    mode (the JSON converter then writes them as base64) and the placeholder text in
    ``hex`` mode. For the base64 modes the source is less clear, so both the text and
    its encodings are recognised.
    """
    raw = settings.unavailable_placeholder
    text = settings.placeholder_text
    forms = {
        "bytes": {base64.b64encode(raw).decode()},
        "hex": {text, raw.hex()},
    }.get(settings.binary_mode)
    if forms is None:
        forms = {
            text,
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
        }
    return frozenset(forms)


# --- choosing a converter ------------------------------------------------------------


def converter_for(
    spec: FieldSpec, settings: DecodeSettings, hint: ColumnType | None = None
) -> Converter | None:
    """The converter for one field, or ``None`` when the JSON value is already right."""
    unsigned = hint is not None and hint.kind is ColumnKind.UNSIGNED_BIGINT
    if unsigned and spec.name == DECIMAL:
        return _unsigned_from_bytes
    if spec.name in _KNOWN_NAMES:
        return _named_converter(spec, settings)
    if hint is not None:
        return _hinted_converter(spec, hint, settings)
    if spec.type == "bytes":
        return _base64
    return None


def _named_converter(spec: FieldSpec, settings: DecodeSettings) -> Converter | None:
    name = spec.name or ""
    if name == DECIMAL:
        scale = spec.parameters.get("scale")
        if scale is None:
            raise LogicalValueError(f"{DECIMAL} field without a scale parameter")
        return _fixed_scale_decimal(int(scale))

    simple = _SIMPLE.get(name)
    if simple is not None:
        return simple
    timed = _time_decoders(settings.connector == MYSQL).get(name)
    if timed is not None:
        return timed
    return None


def _hinted_converter(
    spec: FieldSpec, hint: ColumnType, settings: DecodeSettings
) -> Converter | None:
    """A field whose schema (if any) has no logical name: the catalog decides."""
    kind = hint.kind
    if kind is ColumnKind.DECIMAL and spec.type == "string":
        return _decimal_text
    if kind is ColumnKind.UNSIGNED_BIGINT and spec.type == "int64":
        return _unsigned_from_long
    if kind is ColumnKind.BINARY and spec.type in ("bytes", "string"):
        return _base64 if spec.type == "bytes" else _BINARY[settings.binary_mode]
    if spec.type == "bytes":
        return _base64
    return None


_SIMPLE: dict[str, Converter] = {
    VARIABLE_SCALE_DECIMAL: _variable_scale_decimal,
    DATE: _date_from_days,
    CONNECT_DATE: _date_from_days,
    TIMESTAMP: _timestamp_millis,
    CONNECT_TIMESTAMP: _timestamp_millis,
    MICRO_TIMESTAMP: _timestamp_micros,
    NANO_TIMESTAMP: _timestamp_nanos,
    ZONED_TIMESTAMP: _zoned_timestamp,
    ZONED_TIME: _zoned_time,
    MICRO_DURATION: _micro_duration,
    YEAR: _year,
    ENUM_SET: _enum_set,
    UUID: _uuid,
    BITS: _base64,
}
_TIME_NAMES = frozenset({TIME, CONNECT_TIME, MICRO_TIME, NANO_TIME})
_KNOWN_NAMES = frozenset({DECIMAL, JSON, ENUM, INTERVAL, *_SIMPLE, *_TIME_NAMES})


# --- specs from catalog hints -------------------------------------------------------


def spec_for_column(column: ColumnType, settings: DecodeSettings) -> FieldSpec:
    """The field spec Debezium would have sent for ``column`` under ``settings``."""
    kind = column.kind
    fixed = _FIXED_SPECS.get(kind)
    if fixed is not None:
        return fixed
    if kind is ColumnKind.DECIMAL:
        return _decimal_spec(column, settings)
    if kind is ColumnKind.UNSIGNED_BIGINT:
        if settings.bigint_unsigned_mode == "precise":
            return FieldSpec("bytes", DECIMAL, {"scale": "0"})
        return FieldSpec("int64")
    if kind is ColumnKind.BINARY:
        return FieldSpec("bytes" if settings.binary_mode == "bytes" else "string")
    if kind is ColumnKind.TIME:
        return FieldSpec("int64", _time_name(column, settings))
    if kind is ColumnKind.TIMESTAMP:
        return FieldSpec("int64", _timestamp_name(_precision(column)))
    if kind is ColumnKind.INTERVAL:
        if settings.interval_mode == "string":
            return FieldSpec("string", INTERVAL)
        return FieldSpec("int64", MICRO_DURATION)
    return FieldSpec("string")


_FIXED_SPECS = {
    ColumnKind.INTEGER: FieldSpec("int64"),
    ColumnKind.FLOAT: FieldSpec("double"),
    ColumnKind.BOOLEAN: FieldSpec("boolean"),
    ColumnKind.JSON: FieldSpec("string", JSON),
    ColumnKind.UUID: FieldSpec("string", UUID),
    ColumnKind.BITS: FieldSpec("bytes", BITS),
    ColumnKind.DATE: FieldSpec("int32", DATE),
    ColumnKind.TIME_TZ: FieldSpec("string", ZONED_TIME),
    ColumnKind.TIMESTAMP_TZ: FieldSpec("string", ZONED_TIMESTAMP),
    ColumnKind.ENUM: FieldSpec("string", ENUM),
    ColumnKind.SET: FieldSpec("string", ENUM_SET),
    ColumnKind.YEAR: FieldSpec("int32", YEAR),
}


def _decimal_spec(column: ColumnType, settings: DecodeSettings) -> FieldSpec:
    if settings.decimal_mode == "string":
        return FieldSpec("string")
    if column.scale is None:
        return FieldSpec("struct", VARIABLE_SCALE_DECIMAL)
    return FieldSpec("bytes", DECIMAL, {"scale": str(column.scale)})


def _precision(column: ColumnType) -> int:
    if column.precision is None:
        raise LogicalValueError(
            f"the column type hint ({column.sql_type or column.kind}) has no "
            "fractional-second precision, so the time unit is unknown"
        )
    return column.precision


def _time_name(column: ColumnType, settings: DecodeSettings) -> str:
    if settings.time_precision_mode == "adaptive_time_microseconds":
        return MICRO_TIME
    precision = _precision(column)
    if precision <= 3:
        return TIME
    return MICRO_TIME if precision <= 6 else NANO_TIME


def _timestamp_name(precision: int) -> str:
    if precision <= 3:
        return TIMESTAMP
    return MICRO_TIMESTAMP if precision <= 6 else NANO_TIMESTAMP
