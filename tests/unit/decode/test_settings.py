"""DecodeSettings: reading connector files, refusing undecodable settings at start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.decode import ColumnKind, ColumnTypes, DecodeSettings
from bridge.errors import ConfigError

PG = "io.debezium.connector.postgresql.PostgresConnector"
MYSQL = "io.debezium.connector.mysql.MySqlConnector"
ORACLE = "io.debezium.connector.oracle.OracleConnector"
REPO = Path(__file__).resolve().parents[3]
KEEP_NULLS = {
    "key.converter.replace.null.with.default": "false",
    "value.converter.replace.null.with.default": "false",
}
SCHEMAS_OFF = {
    "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false",
}


def refusal(config: dict[str, Any], types: ColumnTypes | None = None) -> str:
    settings = DecodeSettings.from_connector_config(
        "connectors/demo.json", {**KEEP_NULLS, **config}
    )
    with pytest.raises(ConfigError) as caught:
        settings.validate(types)
    return str(caught.value)


def one_problem(line: str) -> str:
    return (
        "connector connectors/demo.json: settings that cannot be decoded exactly:\n"
        f"  - {line}\nNothing was started."
    )


@pytest.mark.parametrize("path", sorted((REPO / "connectors").glob("*.json")))
def test_demo_connector_files_are_accepted(path: Path) -> None:
    settings = DecodeSettings.from_connector_config(
        str(path.relative_to(REPO)), json.loads(path.read_text())
    )

    settings.validate()

    assert settings.decimal_mode == "string"
    assert settings.time_precision_mode == "adaptive_time_microseconds"
    assert (settings.key_schemas, settings.value_schemas) == (False, False)


def test_defaults_are_debeziums() -> None:
    pg = DecodeSettings.from_connector_config("pg", {"connector.class": PG})
    mysql = DecodeSettings.from_connector_config("my", {"connector.class": MYSQL})

    assert (pg.connector, pg.time_precision_mode) == ("postgresql", "adaptive")
    assert mysql.time_precision_mode == "adaptive_time_microseconds"
    assert (pg.decimal_mode, pg.binary_mode, pg.bigint_unsigned_mode) == (
        "precise",
        "bytes",
        "long",
    )
    assert (pg.key_schemas, pg.value_schemas) == (True, True)
    assert pg.unavailable_placeholder == b"__debezium_unavailable_value"


def test_embedded_engine_converter_prefix_applies_to_key_and_value() -> None:
    settings = DecodeSettings.from_connector_config(
        "pg", {"connector.class": PG, "converter.schemas.enable": False}
    )

    assert (settings.key_schemas, settings.value_schemas) == (False, False)


def test_hex_placeholder() -> None:
    settings = DecodeSettings.from_connector_config(
        "pg", {"connector.class": PG, "unavailable.value.placeholder": "hex:3f3f"}
    )

    assert settings.unavailable_placeholder == b"??"


def test_precise_decimals_without_schemas_are_refused() -> None:
    """Pins: base64 decimals decoded without their scale (790 for 7.90)."""
    message = refusal({"connector.class": MYSQL, **SCHEMAS_OFF})

    assert message == one_problem(
        "decimal.handling.mode=precise with key.converter.schemas.enable=false and "
        "value.converter.schemas.enable=false: decimals arrive as base64 unscaled "
        "integers and their scale is only in the schema; set "
        "decimal.handling.mode=string (or enable schemas on key and value)"
    )


def test_precise_decimals_with_only_the_key_schema_off_are_refused() -> None:
    config = {"connector.class": PG, "key.converter.schemas.enable": "false"}

    assert "with key.converter.schemas.enable=false:" in refusal(config)


def test_double_decimals_are_refused() -> None:
    message = refusal({"connector.class": PG, "decimal.handling.mode": "double"})

    assert message == one_problem(
        "decimal.handling.mode=double: decimals would pass through a binary float "
        "and lose exact amounts; set decimal.handling.mode=string"
    )


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("connect", "cuts times and timestamps to milliseconds"),
        ("isostring", "is not decoded by creditbridge"),
        ("adaptive", "is not decoded for MySQL, whose TIME unit it leaves unclear"),
    ],
)
def test_time_precision_modes_that_lose_or_are_unknown(mode: str, reason: str) -> None:
    config = {"connector.class": MYSQL, "time.precision.mode": mode}

    assert refusal(config) == one_problem(
        f"time.precision.mode={mode}: {reason}; "
        "set time.precision.mode=adaptive_time_microseconds"
    )


def test_numeric_intervals_are_refused_only_with_interval_columns() -> None:
    config = {"connector.class": PG, "decimal.handling.mode": "string", **KEEP_NULLS}
    with_interval = ColumnTypes.from_kinds(
        {"xyzg.plan": {"id": ColumnKind.INTEGER, "span": ColumnKind.INTERVAL}}
    )
    without = ColumnTypes.from_kinds({"xyzg.plan": {"id": ColumnKind.INTEGER}})

    DecodeSettings.from_connector_config("pg", config).validate(without)

    assert refusal(config, with_interval) == one_problem(
        "interval.handling.mode=numeric with interval columns (xyzg.plan.span): "
        "Debezium approximates a month as 30.4375 days; "
        "set interval.handling.mode=string"
    )


def test_every_problem_is_reported_at_once() -> None:
    config = {
        "connector.class": MYSQL,
        "decimal.handling.mode": "double",
        "time.precision.mode": "connect",
        "binary.handling.mode": "raw",
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.decimal.format": "numeric",
        "transforms": "route, unwrap",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
    }

    lines = refusal(config).splitlines()

    assert lines[1:-1] == [
        "  - decimal.handling.mode=double: decimals would pass through a binary "
        "float and lose exact amounts; set decimal.handling.mode=string",
        "  - time.precision.mode=connect: cuts times and timestamps to "
        "milliseconds; set time.precision.mode=adaptive_time_microseconds",
        "  - binary.handling.mode=raw: unknown mode; set binary.handling.mode to "
        "one of bytes, base64, base64-url-safe, hex",
        "  - io.confluent.connect.avro.AvroConverter as converter: only JSON records "
        "are decoded; set the converters to "
        "org.apache.kafka.connect.json.JsonConverter",
        "  - converter decimal.format=NUMERIC: decimals would be JSON numbers read "
        "as floats; remove the setting and use decimal.handling.mode=string",
        "  - transform unwrap (io.debezium.transforms.ExtractNewRecordState): it "
        "drops the envelope (operation, before-image, source position) the bridge "
        "needs; remove it from transforms",
    ]


def test_unknown_connector_class_is_refused_when_read() -> None:
    with pytest.raises(ConfigError) as caught:
        DecodeSettings.from_connector_config(
            "connectors/oracle.json",
            {"config": {"connector.class": ORACLE}},
        )

    assert str(caught.value) == (
        "connector connectors/oracle.json: "
        "connector.class=io.debezium.connector.oracle.OracleConnector: not a "
        "connector creditbridge decodes; set connector.class to one of "
        "io.debezium.connector.postgresql.PostgresConnector, "
        "io.debezium.connector.mysql.MySqlConnector. Nothing was started."
    )


def test_converter_writing_defaults_for_nulls_is_refused() -> None:
    """Pins C10: an explicit NULL arriving as the column default ('MANUAL', 5)."""
    config = {
        "connector.class": MYSQL,
        "decimal.handling.mode": "string",
        "key.converter.replace.null.with.default": "false",
    }
    settings = DecodeSettings.from_connector_config("connectors/demo.json", config)

    with pytest.raises(ConfigError) as caught:
        settings.validate()

    assert str(caught.value) == one_problem(
        "value.converter.replace.null.with.default=true (Kafka's default): the JSON "
        "converter writes a column's default in place of an explicit NULL; set "
        "value.converter.replace.null.with.default=false"
    )


def test_embedded_engine_converter_prefix_keeps_nulls() -> None:
    config = {
        "connector.class": MYSQL,
        "decimal.handling.mode": "string",
        "converter.replace.null.with.default": False,
    }

    DecodeSettings.from_connector_config("embedded", config).validate()
