"""Connector files: loading, references, what embedding adds, the shipped files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.capture.connectors import (
    ConnectorFile,
    embedded_properties,
    load_connector,
    resolve_references,
)
from bridge.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
PG_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
MYSQL_CLASS = "io.debezium.connector.mysql.MySqlConnector"

PG_ENV = {
    "CREDITBRIDGE_PG_HOST": "127.0.0.1",
    "CREDITBRIDGE_PG_PORT": "5499",
    "CREDITBRIDGE_PG_DATABASE": "creditbridge",
    "CREDITBRIDGE_PG_CAPTURE_PASSWORD": "s3cret",
}
MYSQL_ENV = {
    "CREDITBRIDGE_MYSQL_HOST": "127.0.0.1",
    "CREDITBRIDGE_MYSQL_PORT": "3399",
    "CREDITBRIDGE_MYSQL_CAPTURE_PASSWORD": "pw",
}


def write(tmp_path: Path, content: Any, name: str = "c.json") -> Path:
    path = tmp_path / name
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def shipped(name: str) -> ConnectorFile:
    return load_connector(REPO / "connectors" / f"{name}.json")


def test_shipped_postgres_file_captures_only_the_native_outcomes_and_heartbeat() -> (
    None
):
    connector = shipped("credit-china-outcomes")

    assert connector.name == "credit-china-outcomes"
    assert connector.kind == "postgres"
    config = connector.config
    assert config["table.include.list"] == "xyzg.xyxf_jg,bridge.heartbeat"
    assert config["publication.name"] == "creditbridge_pub"
    assert config["publication.autocreate.mode"] == "disabled"
    assert config["plugin.name"] == "pgoutput"
    assert config["decimal.handling.mode"] == "string"
    assert config["time.precision.mode"] == "adaptive_time_microseconds"
    assert config["value.converter.schemas.enable"] == "false"
    assert config["database.password"] == "${env:CREDITBRIDGE_PG_CAPTURE_PASSWORD}"
    # Pins: Debezium's action-query connection, never re-opened after a source
    # restart, froze the heartbeat; the bridge writes the row itself.
    assert "heartbeat.action.query" not in config
    assert config["heartbeat.interval.ms"] == "10000"


def test_natural_persons_id_numbers_never_leave_credit_china() -> None:
    # Pins: a rejected row's raw event is kept in the other side's dead-letter
    # table, so the column must not be captured at all.
    config = shipped("credit-china-outcomes").config

    assert config["column.exclude.list"] == "xyzg.xyxf_jg.xdr_zjhm"


def test_shipped_mysql_file_captures_only_the_native_outcomes_and_heartbeat() -> None:
    connector = shipped("necips-outcomes")

    assert connector.kind == "mysql"
    config = connector.config
    assert config["table.include.list"] == "gsxt.E_CR_REPAIR,bridge.heartbeat"
    assert config["database.ssl.mode"] == "disabled"
    assert config["driver.allowPublicKeyRetrieval"] == "true"
    assert config["connect.keep.alive.interval.ms"] == "2000"
    assert config["database.password"] == "${env:CREDITBRIDGE_MYSQL_CAPTURE_PASSWORD}"


@pytest.mark.parametrize("name", ["credit-china-outcomes", "necips-outcomes"])
def test_shipped_files_never_capture_a_staging_table(name: str) -> None:
    # Capturing the staging tables would send received outcomes straight back.
    include = shipped(name).config["table.include.list"].lower()
    assert "xyxf_jg_gsxt" not in include
    assert "e_cr_repair_xyzg" not in include


@pytest.mark.parametrize("name", ["credit-china-outcomes", "necips-outcomes"])
def test_shipped_files_carry_no_literal_secret_host_or_port(name: str) -> None:
    config = shipped(name).config
    for key in ("database.hostname", "database.port", "database.password"):
        assert config[key].startswith("${env:"), key


def test_embedded_postgres_properties_resolve_references_and_add_offsets(
    tmp_path: Path,
) -> None:
    properties = embedded_properties(shipped("credit-china-outcomes"), tmp_path, PG_ENV)

    assert properties["name"] == "credit-china-outcomes"
    assert properties["database.hostname"] == "127.0.0.1"
    assert properties["database.port"] == "5499"
    assert properties["database.password"] == "s3cret"
    assert properties["offset.storage"] == (
        "org.apache.kafka.connect.storage.FileOffsetBackingStore"
    )
    assert properties["offset.storage.file.filename"] == str(
        tmp_path.resolve() / "offsets" / "credit-china-outcomes.dat"
    )
    assert properties["offset.flush.interval.ms"] == "1000"
    assert properties["executor.shutdown.timeout.ms"] == "1000"
    assert "schema.history.internal" not in properties
    assert (tmp_path / "offsets").is_dir()


def test_embedded_mysql_properties_swap_kafka_history_for_a_file(
    tmp_path: Path,
) -> None:
    properties = embedded_properties(shipped("necips-outcomes"), tmp_path, MYSQL_ENV)

    assert properties["schema.history.internal"] == (
        "io.debezium.storage.file.history.FileSchemaHistory"
    )
    assert properties["schema.history.internal.file.filename"] == str(
        tmp_path.resolve() / "history" / "necips-outcomes.dat"
    )
    # The Kafka history settings (and their ${env:...} bootstrap) are Connect's only.
    assert not [k for k in properties if k.startswith("schema.history.internal.kafka")]
    assert (
        properties["schema.history.internal.store.only.captured.tables.ddl"] == "true"
    )


def test_missing_variables_are_all_reported_with_file_and_key(tmp_path: Path) -> None:
    connector = shipped("credit-china-outcomes")
    partial = {"CREDITBRIDGE_PG_HOST": "127.0.0.1", "CREDITBRIDGE_PG_PORT": "1"}

    with pytest.raises(ConfigError) as raised:
        embedded_properties(connector, tmp_path, partial)

    path = connector.path
    assert str(raised.value) == "\n".join(
        [
            f"{path}: config.database.dbname: environment variable "
            "CREDITBRIDGE_PG_DATABASE is not set; export CREDITBRIDGE_PG_CAPTURE_URL "
            "(`creditbridge dev env` prints it for the local demo databases) or "
            "CREDITBRIDGE_PG_DATABASE itself",
            f"{path}: config.database.password: environment variable "
            "CREDITBRIDGE_PG_CAPTURE_PASSWORD is not set; export "
            "CREDITBRIDGE_PG_CAPTURE_URL (`creditbridge dev env` prints it for the "
            "local demo databases) or CREDITBRIDGE_PG_CAPTURE_PASSWORD itself",
            "nothing was started",
        ]
    )


def test_file_references_read_a_properties_file_key(tmp_path: Path) -> None:
    secrets = write(tmp_path, "# local\nPG_CAPTURE_PASSWORD = p=w\n", "secrets.env")
    connector = ConnectorFile(
        "x", {"database.password": f"${{file:{secrets}:PG_CAPTURE_PASSWORD}}"}, secrets
    )

    assert resolve_references(connector, environ={}) == {"database.password": "p=w"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "${file:/nonexistent/s.env:K}",
            "cannot read /nonexistent/s.env: No such file or directory",
        ),
        (
            "${file:nokey}",
            "file reference must read ${file:PATH:KEY}, got ${file:nokey}",
        ),
        ("${vault:a/b}", "unknown config provider 'vault' (use env or file)"),
    ],
)
def test_bad_references_name_the_key(tmp_path: Path, value: str, problem: str) -> None:
    connector = ConnectorFile("x", {"database.password": value}, tmp_path / "c.json")

    with pytest.raises(ConfigError) as raised:
        resolve_references(connector, environ={})

    assert str(raised.value) == (
        f"{tmp_path / 'c.json'}: config.database.password: {problem}\n"
        "nothing was started"
    )


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{"name": "x",\n  "config": {,}}')

    with pytest.raises(ConfigError) as raised:
        load_connector(path)

    assert str(raised.value) == (
        f"{path}:2:14: not valid JSON: Expecting property name enclosed in double "
        "quotes; nothing was started"
    )


def test_every_problem_of_a_connector_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "name": "Bad Name",
            "config": {
                "connector.class": PG_CLASS,
                "database.port": 5432,
                "plugin.name": "decoderbufs",
            },
        },
    )

    with pytest.raises(ConfigError) as raised:
        load_connector(path)

    missing = [
        "topic.prefix",
        "database.hostname",
        "database.user",
        "database.password",
        "database.dbname",
        "publication.name",
        "slot.name",
        "table.include.list",
    ]
    assert str(raised.value).splitlines() == [
        f"{path}: name: expected 1-64 lower-case letters, digits, '-' or '_' "
        "starting with a letter, got 'Bad Name'",
        f"{path}: config.database.port: expected a string, got int (Kafka Connect "
        "takes every setting as a string)",
        *(f"{path}: config.{key}: missing" for key in missing),
        f"{path}: config.plugin.name: must be 'pgoutput' (the only logical decoding "
        "plugin the servers have)",
        "nothing was started",
    ]


def test_unsupported_connector_class_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "x", "config": {"connector.class": "a.B"}})

    with pytest.raises(ConfigError) as raised:
        load_connector(path)

    assert str(raised.value) == (
        f"{path}: config.connector.class: 'a.B' is not supported (supported: "
        f"{PG_CLASS}, {MYSQL_CLASS})\nnothing was started"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_connector(tmp_path / "missing.json")

    assert str(raised.value) == (
        f"{tmp_path / 'missing.json'}: cannot read connector file: No such file or "
        "directory; nothing was started"
    )


@pytest.mark.parametrize("name", ["credit-china-outcomes", "necips-outcomes"])
def test_shipped_files_keep_explicit_nulls(name: str) -> None:
    # Pins C10: the JSON converter otherwise writes a column's default for a NULL.
    config = shipped(name).config
    assert config["key.converter.replace.null.with.default"] == "false"
    assert config["value.converter.replace.null.with.default"] == "false"


def test_parts_are_derived_from_the_capture_urls_dev_env_prints(tmp_path: Path) -> None:
    environ = {
        "CREDITBRIDGE_MYSQL_CAPTURE_URL": (
            "mysql+pymysql://cb_capture:p%40ss@127.0.0.1:3399/gsxt?charset=utf8mb4"
        ),
        "CREDITBRIDGE_MYSQL_HOST": "db.internal",
    }

    properties = embedded_properties(shipped("necips-outcomes"), tmp_path, environ)

    assert properties["database.hostname"] == "db.internal"  # explicit wins
    assert properties["database.port"] == "3399"
    assert properties["database.password"] == "p@ss"
