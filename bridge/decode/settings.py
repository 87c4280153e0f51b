"""What the decoder needs to know about a connector's configuration.

Debezium renders the same column very differently depending on a handful of connector
and converter settings. :class:`DecodeSettings` reads them once from a connector file
(the Kafka-Connect-style JSON in ``connectors/*.json``) and
:meth:`DecodeSettings.validate` refuses, before anything starts, every combination
whose events cannot be decoded exactly:

* ``decimal.handling.mode=double``: amounts would pass through a binary float.
* ``decimal.handling.mode=precise`` (Debezium's default) with key or value schemas
  disabled: the base64 unscaled integer arrives without its scale.
* ``time.precision.mode=connect``: Debezium cuts every time and timestamp to
  milliseconds. Refused always, not only for columns with a finer precision: both
  demo databases keep microseconds, and a connector must not become wrong the day a
  ``datetime(6)`` column is added. ``isostring``, ``microseconds`` and ``nanoseconds``
  are refused because this decoder does not implement them yet, and ``adaptive`` is
  refused for MySQL (its ``TIME`` unit under that mode differs between versions).
* ``interval.handling.mode=numeric`` when the column types show an ``interval`` column:
  Debezium approximates months as 30.4375 days.
* the JSON converter's ``replace.null.with.default`` left on (Kafka's default): an
  explicit NULL in a column with a default arrives as the default (CASES.md C10).
* a converter other than Kafka's ``JsonConverter``, its ``decimal.format=NUMERIC``
  (decimals as JSON numbers, parsed as floats), and an ``ExtractNewRecordState``
  transform (it removes the envelope the decoder reads the operation from).

All problems are reported at once, each naming the connector, the setting, its value,
the reason and what to set instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.errors import ConfigError

if TYPE_CHECKING:
    from bridge.decode.columns import ColumnTypes

log = logging.getLogger(__name__)

POSTGRESQL = "postgresql"
MYSQL = "mysql"

_CONNECTOR_CLASSES = {
    "io.debezium.connector.postgresql.PostgresConnector": POSTGRESQL,
    "io.debezium.connector.mysql.MySqlConnector": MYSQL,
}
_DEFAULT_TIME_MODE = {POSTGRESQL: "adaptive", MYSQL: "adaptive_time_microseconds"}
_JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
_UNWRAP_TRANSFORMS = ("ExtractNewRecordState", "ExtractNewDocumentState")

DEFAULT_PLACEHOLDER = "__debezium_unavailable_value"
DECIMAL_MODES = ("precise", "string")
TIME_MODES = ("adaptive", "adaptive_time_microseconds")
BINARY_MODES = ("bytes", "base64", "base64-url-safe", "hex")
BIGINT_UNSIGNED_MODES = ("long", "precise")
INTERVAL_MODES = ("numeric", "string")

_SUFFIX = "Nothing was started."


@dataclass(frozen=True, slots=True)
class DecodeSettings:
    """The connector settings that decide how a record is decoded."""

    name: str
    connector: str
    topic_prefix: str | None = None
    decimal_mode: str = "precise"
    time_precision_mode: str = "adaptive"
    binary_mode: str = "bytes"
    bigint_unsigned_mode: str = "long"
    interval_mode: str = "numeric"
    value_schemas: bool = True
    key_schemas: bool = True
    unavailable_placeholder: bytes = DEFAULT_PLACEHOLDER.encode()
    converter_classes: tuple[str, ...] = ()
    decimal_format: str = "BASE64"
    unwrap_transforms: tuple[str, ...] = ()
    null_defaults: tuple[str, ...] = ()
    """Converter sides (``key``, ``value``) that write defaults in place of nulls."""

    @classmethod
    def from_connector_config(
        cls, name: str, config: Mapping[str, Any]
    ) -> DecodeSettings:
        """Read the settings from a connector's config dict.

        ``name`` is what error messages cite: the connector file or connector name.
        Accepts the flat config or the REST form ``{"name": ..., "config": {...}}``.
        """
        nested = config.get("config")
        flat: Mapping[str, Any] = nested if isinstance(nested, Mapping) else config
        connector = _connector_kind(name, flat)

        return cls(
            name=name,
            connector=connector,
            topic_prefix=_text(flat, "topic.prefix"),
            decimal_mode=_text(flat, "decimal.handling.mode") or "precise",
            time_precision_mode=_text(flat, "time.precision.mode")
            or _DEFAULT_TIME_MODE[connector],
            binary_mode=_text(flat, "binary.handling.mode") or "bytes",
            bigint_unsigned_mode=_text(flat, "bigint.unsigned.handling.mode") or "long",
            interval_mode=_text(flat, "interval.handling.mode") or "numeric",
            value_schemas=_schemas_enabled(flat, "value"),
            key_schemas=_schemas_enabled(flat, "key"),
            unavailable_placeholder=_placeholder(flat),
            converter_classes=_converter_classes(flat),
            decimal_format=_decimal_format(flat),
            unwrap_transforms=_unwrap_transforms(flat),
            null_defaults=_null_defaults(flat),
        )

    @property
    def placeholder_text(self) -> str:
        """The TOAST placeholder as it appears in text columns."""
        return self.unavailable_placeholder.decode("utf-8", errors="replace")

    def validate(self, types: ColumnTypes | None = None) -> None:
        """Raise :class:`ConfigError` listing every setting that cannot be decoded.

        ``types`` (when the catalog was read) lets the check refuse settings that are
        harmful only for some column types.
        """
        problems = [
            *self._decimal_problems(),
            *self._time_problems(),
            *self._other_mode_problems(),
            *self._converter_problems(),
            *self._interval_problems(types),
        ]
        if not problems:
            log.debug("connector %s: decode settings accepted", self.name)
            return

        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(
            f"connector {self.name}: settings that cannot be decoded exactly:\n"
            f"{lines}\n{_SUFFIX}"
        )

    def _decimal_problems(self) -> list[str]:
        mode = self.decimal_mode
        if mode == "double":
            return [
                "decimal.handling.mode=double: decimals would pass through a binary "
                "float and lose exact amounts; set decimal.handling.mode=string"
            ]
        if mode not in DECIMAL_MODES:
            return [
                f"decimal.handling.mode={mode}: unknown mode; "
                "set decimal.handling.mode=string"
            ]
        if mode != "precise":
            return []

        off = [
            f"{side}.converter.schemas.enable=false"
            for side, enabled in (
                ("key", self.key_schemas),
                ("value", self.value_schemas),
            )
            if not enabled
        ]
        if not off:
            return []
        return [
            f"decimal.handling.mode=precise with {' and '.join(off)}: decimals arrive "
            "as base64 unscaled integers and their scale is only in the schema; set "
            "decimal.handling.mode=string (or enable schemas on key and value)"
        ]

    def _time_problems(self) -> list[str]:
        mode = self.time_precision_mode
        if mode == "adaptive" and self.connector == MYSQL:
            # Which unit MySQL TIME gets under "adaptive" depends on the Debezium
            # version; guessing wrong is a factor of 1000.
            reason = "is not decoded for MySQL, whose TIME unit it leaves unclear"
        elif mode in TIME_MODES:
            return []
        elif mode == "connect":
            reason = "cuts times and timestamps to milliseconds"
        else:
            reason = "is not decoded by creditbridge"
        return [
            f"time.precision.mode={mode}: {reason}; "
            "set time.precision.mode=adaptive_time_microseconds"
        ]

    def _other_mode_problems(self) -> list[str]:
        checks = (
            ("binary.handling.mode", self.binary_mode, BINARY_MODES),
            (
                "bigint.unsigned.handling.mode",
                self.bigint_unsigned_mode,
                BIGINT_UNSIGNED_MODES,
            ),
            ("interval.handling.mode", self.interval_mode, INTERVAL_MODES),
        )
        return [
            f"{key}={value}: unknown mode; set {key} to one of {', '.join(allowed)}"
            for key, value, allowed in checks
            if value not in allowed
        ]

    def _converter_problems(self) -> list[str]:
        problems = [
            f"{cls_name} as converter: only JSON records are decoded; "
            f"set the converters to {_JSON_CONVERTER}"
            for cls_name in self.converter_classes
            if cls_name != _JSON_CONVERTER
        ]
        if self.decimal_format != "BASE64":
            problems.append(
                f"converter decimal.format={self.decimal_format}: decimals would be "
                "JSON numbers read as floats; remove the setting and use "
                "decimal.handling.mode=string"
            )
        problems.extend(
            f"{side}.converter.replace.null.with.default=true (Kafka's default): the "
            "JSON converter writes a column's default in place of an explicit NULL; "
            f"set {side}.converter.replace.null.with.default=false"
            for side in self.null_defaults
        )
        problems.extend(
            f"transform {transform}: it drops the envelope (operation, before-image, "
            "source position) the bridge needs; remove it from transforms"
            for transform in self.unwrap_transforms
        )
        return problems

    def _interval_problems(self, types: ColumnTypes | None) -> list[str]:
        if self.interval_mode != "numeric" or types is None:
            return []
        columns = types.interval_columns()
        if not columns:
            return []
        return [
            f"interval.handling.mode=numeric with interval columns "
            f"({', '.join(columns)}): Debezium approximates a month as 30.4375 days; "
            "set interval.handling.mode=string"
        ]


def _connector_kind(name: str, config: Mapping[str, Any]) -> str:
    connector_class = _text(config, "connector.class")
    kind = _CONNECTOR_CLASSES.get(connector_class or "")
    if kind is None:
        known = ", ".join(_CONNECTOR_CLASSES)
        raise ConfigError(
            f"connector {name}: connector.class={connector_class}: not a connector "
            f"creditbridge decodes; set connector.class to one of {known}. {_SUFFIX}"
        )
    return kind


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    return None if value is None else str(value).strip()


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _schemas_enabled(config: Mapping[str, Any], side: str) -> bool:
    # Kafka's JsonConverter embeds schemas unless told otherwise; the embedded engine
    # passes "converter.*" to both key and value converters.
    for key in (f"{side}.converter.schemas.enable", "converter.schemas.enable"):
        if key in config:
            return _flag(config[key])
    return True


def _null_defaults(config: Mapping[str, Any]) -> tuple[str, ...]:
    # Kafka's JsonConverter replaces a null field by its schema default unless told
    # otherwise, schemas embedded or not: an explicit NULL would arrive as 'MANUAL'.
    sides = []
    for side in ("key", "value"):
        replaced = True
        for key in (
            f"{side}.converter.replace.null.with.default",
            "converter.replace.null.with.default",
        ):
            if key in config:
                replaced = _flag(config[key])
                break
        if replaced:
            sides.append(side)
    return tuple(sides)


def _placeholder(config: Mapping[str, Any]) -> bytes:
    text = _text(config, "unavailable.value.placeholder") or DEFAULT_PLACEHOLDER
    if text.startswith("hex:"):
        return bytes.fromhex(text[4:])
    return text.encode()


def _converter_classes(config: Mapping[str, Any]) -> tuple[str, ...]:
    keys = ("key.converter", "value.converter", "converter")
    return tuple(str(config[key]).strip() for key in keys if config.get(key))


def _decimal_format(config: Mapping[str, Any]) -> str:
    for key in (
        "value.converter.decimal.format",
        "key.converter.decimal.format",
        "converter.decimal.format",
    ):
        value = _text(config, key)
        if value and value.upper() != "BASE64":
            return value.upper()
    return "BASE64"


def _unwrap_transforms(config: Mapping[str, Any]) -> tuple[str, ...]:
    names = [n.strip() for n in (_text(config, "transforms") or "").split(",")]
    found = []
    for transform in filter(None, names):
        type_name = _text(config, f"transforms.{transform}.type") or ""
        if type_name.endswith(_UNWRAP_TRANSFORMS):
            found.append(f"{transform} ({type_name})")
    return tuple(found)
