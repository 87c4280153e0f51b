"""decode_record: envelope, key, tombstones, TOAST placeholders, errors, caching."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from dbz_records import (
    Col,
    Table,
    decimal_col,
    logical_col,
    mysql_source,
    pg_source,
    record,
    tombstone_key,
)

from bridge.decode import (
    ColumnKind,
    ColumnType,
    ColumnTypes,
    DecodeSettings,
    PositionSequencer,
    RecordDecodeError,
    RecordDecoder,
    decode_record,
)
from bridge.errors import DecodeError, PermanentError
from bridge.events import UNAVAILABLE, Operation

PG_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
MYSQL_CLASS = "io.debezium.connector.mysql.MySqlConnector"
PLACEHOLDER = "__debezium_unavailable_value"

NOTE = Table(
    "postgresql",
    "creditchina",
    "xyzg",
    "note",
    [
        Col("id", "int32", False),
        Col("body", "string"),
        Col("blob", "bytes"),
        Col("tags", "array"),
        logical_col("at", "string", "io.debezium.time.ZonedTimestamp"),
    ],
)
NOTE_HINT = ColumnTypes.from_kinds(
    {
        "xyzg.note": {
            "id": ColumnKind.INTEGER,
            "body": ColumnKind.TEXT,
            "blob": ColumnKind.BINARY,
            "tags": ColumnKind.OTHER,
            "at": ColumnType(ColumnKind.TIMESTAMP_TZ, 6),
        }
    }
)
ROW = {"id": 1, "body": "kiss 💋", "blob": "3q2+7w==", "tags": ["a"], "at": None}


def pg_settings(schemas: bool, **config: str) -> DecodeSettings:
    flag = "true" if schemas else "false"
    return DecodeSettings.from_connector_config(
        "connectors/test.json",
        {
            "connector.class": PG_CLASS,
            "decimal.handling.mode": "string",
            "converter.schemas.enable": flag,
            **config,
        },
    )


def note(
    row: dict[str, Any], schemas: bool, op: str = "c", lsn: int = 23803720
) -> tuple[str, str]:
    before = row if op == "d" else None
    after = None if op == "d" else row
    source = pg_source(NOTE, lsn, 23803600)
    return record(NOTE, op, before, after, source, schemas=schemas)


@pytest.mark.parametrize("schemas", [True, False])
def test_a_create_event_in_full(schemas: bool) -> None:
    key, value = note(ROW, schemas)

    event = decode_record(key.encode(), value.encode(), pg_settings(schemas), NOTE_HINT)

    assert event is not None
    assert event.op is Operation.CREATE
    assert (event.source, event.schema, event.table) == ("creditchina", "xyzg", "note")
    assert event.qualified_table == "xyzg.note"
    assert event.key == {"id": 1}
    assert event.before is None
    assert event.after == {
        "id": 1,
        "body": "kiss 💋",
        "blob": b"\xde\xad\xbe\xef",
        "tags": ["a"],
        "at": None,
    }
    assert event.position.order == (23803600, 23803720, 0)
    assert event.committed_at == datetime(2024, 2, 23, 8, 52, 14, 431000, tzinfo=UTC)
    assert event.transaction_id == "771"
    assert event.raw == value


@pytest.mark.parametrize("schemas", [True, False])
def test_tombstones_decode_to_none(schemas: bool) -> None:
    key = tombstone_key(NOTE, {"id": 1}, schemas=schemas)

    assert decode_record(key, None, pg_settings(schemas), NOTE_HINT) is None
    assert decode_record(key, b"", pg_settings(schemas), NOTE_HINT) is None


@pytest.mark.parametrize("schemas", [True, False])
def test_toast_placeholders_become_unavailable(schemas: bool) -> None:
    """Pins: the placeholder text (or its bytes) written into the target column."""
    blob = base64.b64encode(PLACEHOLDER.encode()).decode()
    row = {
        "id": 1,
        "body": PLACEHOLDER,
        "blob": blob,
        "tags": [PLACEHOLDER],
        "at": None,
    }

    event = decode_record(*note(row, schemas, "u"), pg_settings(schemas), NOTE_HINT)

    assert event is not None and event.after is not None
    assert event.after == {
        "id": 1,
        "body": UNAVAILABLE,
        "blob": UNAVAILABLE,
        "tags": UNAVAILABLE,
        "at": None,
    }


def test_toast_placeholder_in_hex_binary_mode() -> None:
    settings = pg_settings(False, **{"binary.handling.mode": "hex"})
    row = {**ROW, "blob": PLACEHOLDER}
    plain = {**ROW, "blob": "deadbeef"}

    toasted = decode_record(*note(row, False, "u"), settings, NOTE_HINT)
    sent = decode_record(*note(plain, False, "u", lsn=23803800), settings, NOTE_HINT)

    assert toasted is not None and toasted.after is not None
    assert toasted.after["blob"] is UNAVAILABLE
    assert sent is not None and sent.after is not None
    assert sent.after["blob"] == b"\xde\xad\xbe\xef"


def test_a_bad_value_names_table_column_and_position() -> None:
    row = {**ROW, "at": "yesterday"}

    with pytest.raises(RecordDecodeError) as caught:
        decode_record(
            *note(row, True), pg_settings(True), NOTE_HINT, topic="t.xyzg.note"
        )

    error = caught.value
    assert isinstance(error, DecodeError) and isinstance(error, PermanentError)
    assert str(error) == (
        "cannot decode xyzg.note (topic t.xyzg.note) at creditchina lsn=0/16B3748 "
        "commit_lsn=0/16B36D0 txid=771: column 'at': 'yesterday' is not an "
        "ISO-8601 instant. The record goes to the dead-letter table."
    )
    assert error.table == "xyzg.note"
    assert error.position is not None and error.position.order == (
        23803600,
        23803720,
        0,
    )


def test_a_value_that_is_not_json() -> None:
    with pytest.raises(RecordDecodeError) as caught:
        decode_record(b'{"id":1}', b"{not json", pg_settings(False), topic="t.x")

    assert str(caught.value) == (
        "cannot decode a record (topic t.x) at an unknown position: value is not "
        "JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
        "(char 1)). The record goes to the dead-letter table."
    )
    assert caught.value.position is None


def test_a_truncate_is_not_a_row_change() -> None:
    _, value = note(ROW, False)
    document = json.loads(value)
    document.update(op="t", after=None)

    with pytest.raises(RecordDecodeError) as caught:
        decode_record(None, json.dumps(document), pg_settings(False), NOTE_HINT)

    assert str(caught.value).endswith(
        "txid=771: malformed envelope (ValueError(\"op 't' is not a row change\")). "
        "The record goes to the dead-letter table."
    )


def test_without_hint_or_schema_values_pass_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = Table(
        "mysql", "necips", "gsxt", "evt", [Col("id", "int32", False), Col("d", "int32")]
    )
    settings = DecodeSettings.from_connector_config(
        "connectors/necips.json",
        {
            "connector.class": MYSQL_CLASS,
            "decimal.handling.mode": "string",
            "converter.schemas.enable": "false",
        },
    )
    row = {"id": 1, "d": 17971, "amount": "7.90", "blob": "3q2+7w=="}
    key, value = record(table, "c", None, row, mysql_source(table, 4000), schemas=False)

    with caplog.at_level(logging.WARNING, logger="bridge.decode.envelope"):
        event = RecordDecoder(settings).decode(key, value)

    assert event is not None
    assert event.after == row
    assert caplog.messages == [
        "connector connectors/necips.json: no column types for gsxt.evt and no "
        "schema in its records: numbers and strings pass through undecoded"
    ]


def test_mysql_event_uses_database_as_schema_and_gtid_as_transaction() -> None:
    table = Table("mysql", "necips", "gsxt", "flag", [Col("id", "int32", False)])
    settings = DecodeSettings.from_connector_config(
        "m", {"connector.class": MYSQL_CLASS, "decimal.handling.mode": "string"}
    )
    key, value = record(
        table, "c", None, {"id": 1}, mysql_source(table, 4000, row=1), schemas=True
    )

    event = decode_record(key, value, settings)

    assert event is not None
    assert (event.schema, event.qualified_table) == ("gsxt", "gsxt.flag")
    assert event.transaction_id == "5f1c2a7e-1f6d-11ef-9a52-0242ac110002:23"
    assert event.position.order == (3, 4000, 1, 0)
    assert event.committed_at == datetime(2019, 3, 16, 11, 28, 27, tzinfo=UTC)


def test_transaction_block_id_when_no_native_id() -> None:
    table = Table("mysql", "necips", "gsxt", "flag", [Col("id", "int32", False)])
    settings = DecodeSettings.from_connector_config(
        "m", {"connector.class": MYSQL_CLASS, "converter.schemas.enable": "false"}
    )
    block = {
        "id": "file=binlog.000003,pos=3900",
        "total_order": 1,
        "data_collection_order": 1,
    }
    source = mysql_source(table, 4000, gtid=None)
    key, value = record(
        table, "c", None, {"id": 1}, source, schemas=False, transaction=block
    )

    event = decode_record(key, value, settings)

    assert event is not None
    assert event.transaction_id == "file=binlog.000003,pos=3900"


def test_key_columns_are_decoded_like_the_row() -> None:
    table = Table(
        "mysql",
        "necips",
        "gsxt",
        "ledger",
        [
            decimal_col("id", 10, 2, False),
            logical_col("d", "int32", "io.debezium.time.Date"),
        ],
    )
    settings = DecodeSettings.from_connector_config(
        "m", {"connector.class": MYSQL_CLASS}
    )
    row = {"id": "AxY=", "d": 17971}
    key, value = record(table, "c", None, row, mysql_source(table, 4000), schemas=True)

    event = decode_record(key, value, settings)

    assert event is not None
    assert event.key == {"id": Decimal("7.90")}
    assert event.after == {"id": Decimal("7.90"), "d": date(2019, 3, 16)}


def test_a_separator_inside_a_schema_default_does_not_confuse_the_fast_path() -> None:
    """Pins: cutting the schema text at a ',"payload":' found inside a default."""
    table = Table(
        "postgresql",
        "creditchina",
        "xyzg",
        "odd",
        [Col("id", "int32", False), Col("v", "string", default='x,"payload":{}')],
    )
    decoder = RecordDecoder(pg_settings(True))
    events = []
    for lsn, text in ((100, "a"), (200, "b")):
        key, value = record(
            table,
            "c",
            None,
            {"id": lsn, "v": text},
            pg_source(table, lsn, 50),
            schemas=True,
        )
        events.append(decoder.decode(key, value))

    assert [e.after for e in events if e] == [
        {"id": 100, "v": "a"},
        {"id": 200, "v": "b"},
    ]


def test_a_new_schema_version_rebuilds_the_table_decoder() -> None:
    old = Table("postgresql", "cc", "xyzg", "t", [Col("id", "int32", False)])
    new = Table(
        "postgresql",
        "cc",
        "xyzg",
        "t",
        [Col("id", "int32", False), logical_col("d", "int32", "io.debezium.time.Date")],
    )
    decoder = RecordDecoder(pg_settings(True))

    first = decoder.decode(
        *record(old, "c", None, {"id": 1}, pg_source(old, 100, 50), schemas=True)
    )
    second = decoder.decode(
        *record(
            new, "c", None, {"id": 2, "d": 0}, pg_source(new, 200, 150), schemas=True
        )
    )
    third = decoder.decode(
        *record(old, "c", None, {"id": 3}, pg_source(old, 300, 250), schemas=True)
    )

    assert [e.after for e in (first, second, third) if e] == [
        {"id": 1},
        {"id": 2, "d": date(1970, 1, 1)},
        {"id": 3},
    ]


def test_sequencer_numbers_snapshot_rows() -> None:
    sequencer = PositionSequencer()
    settings = pg_settings(False)
    orders = []
    for ident in (1, 2, 3):
        source = pg_source(NOTE, 23803720, None, snapshot="true")
        key, value = record(
            NOTE, "r", None, {**ROW, "id": ident}, source, schemas=False
        )
        event = decode_record(key, value, settings, NOTE_HINT, sequencer=sequencer)
        assert event is not None and event.op is Operation.READ
        assert event.position.snapshot
        orders.append(event.position.order)

    assert orders == [(0, 23803720, 0), (0, 23803720, 1), (0, 23803720, 2)]


EVT = Table(
    "mysql", "necips", "gsxt", "evt", [Col("id", "int32", False), Col("d", "int32")]
)


def evt_record(row: dict[str, Any], pos: int) -> tuple[str, str]:
    return record(EVT, "c", None, row, mysql_source(EVT, pos), schemas=False)


def mysql_settings() -> DecodeSettings:
    return DecodeSettings.from_connector_config(
        "connectors/necips.json",
        {
            "connector.class": MYSQL_CLASS,
            "decimal.handling.mode": "string",
            "converter.schemas.enable": "false",
        },
    )


def test_a_column_added_after_start_is_read_from_the_catalog_again() -> None:
    """Pins: a DATE column added by DDL after start decoded as a bare day count."""
    before_ddl = ColumnTypes.from_kinds({"gsxt.evt": {"id": ColumnKind.INTEGER}})
    after_ddl = ColumnTypes.from_kinds(
        {"gsxt.evt": {"id": ColumnKind.INTEGER, "d": ColumnKind.DATE}}
    )
    asked: list[str] = []

    def reload(table: str) -> Any:
        asked.append(table)
        return after_ddl.table(table)

    decoder = RecordDecoder(mysql_settings(), before_ddl, reload=reload)
    first = decoder.decode(*evt_record({"id": 1}, 4000))
    second = decoder.decode(*evt_record({"id": 2, "d": 17971}, 4100))
    third = decoder.decode(*evt_record({"id": 3, "d": 0}, 4200))

    assert [e.after for e in (first, second, third) if e] == [
        {"id": 1},
        {"id": 2, "d": date(2019, 3, 16)},
        {"id": 3, "d": date(1970, 1, 1)},
    ]
    assert asked == ["gsxt.evt"]


def test_a_column_unknown_to_the_catalog_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hint = ColumnTypes.from_kinds({"gsxt.evt": {"id": ColumnKind.INTEGER}})
    decoder = RecordDecoder(mysql_settings(), hint)

    with caplog.at_level(logging.WARNING, logger="bridge.decode.envelope"):
        events = [
            decoder.decode(*evt_record({"id": i, "d": 5}, 4000 + i)) for i in (1, 2)
        ]

    assert [e.after for e in events if e] == [{"id": 1, "d": 5}, {"id": 2, "d": 5}]
    assert caplog.messages == [
        "connector connectors/necips.json: gsxt.evt has columns d that the catalog "
        "did not list: their values pass through undecoded"
    ]
