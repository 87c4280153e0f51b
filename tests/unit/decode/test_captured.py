"""Records captured from the real databases decode to what the databases hold.

The capture stage writes ``tests/fixtures/decode/captured/<name>.json`` (and, from the
source database's own values, ``<name>.expected.json``); see the README there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.decode import ColumnTypes, DecodeSettings, PositionSequencer, RecordDecoder
from bridge.decode.tagged import event_to_tagged, from_tagged, row_to_tagged

REPO = Path(__file__).resolve().parents[3]
CAPTURED = REPO / "tests" / "fixtures" / "decode" / "captured"
FILES = sorted(
    p for p in CAPTURED.glob("*.json") if not p.name.endswith(".expected.json")
)


def load_settings(connector: Any) -> DecodeSettings:
    if isinstance(connector, str):
        return DecodeSettings.from_connector_config(
            connector, json.loads((REPO / connector).read_text())
        )
    return DecodeSettings.from_connector_config("captured", connector)


@pytest.mark.parametrize("path", FILES or [None], ids=lambda p: p.stem if p else "none")
def test_captured_records_decode(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"no captured records in {CAPTURED.relative_to(REPO)} yet")
    capture = json.loads(path.read_text())
    hint = capture.get("column_types")
    types = None if hint is None else ColumnTypes.from_json(hint)
    settings = load_settings(capture["connector"])
    settings.validate(types)
    decoder, sequencer = RecordDecoder(settings, types), PositionSequencer()

    decoded = [
        event_to_tagged(
            decoder.decode(
                r["key"], r["value"], sequencer=sequencer, topic=r.get("topic")
            )
        )
        for r in capture["records"]
    ]

    expected_path = path.with_name(f"{path.stem}.expected.json")
    if expected_path.exists():
        assert decoded == json.loads(expected_path.read_text())
    orders = [event["order"] for event in decoded if event is not None]
    assert orders == sorted(orders)
    for event in filter(None, decoded):
        assert row_to_tagged(from_tagged_row(event["after"])) == event["after"]


def from_tagged_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: from_tagged(v) for k, v in row.items()}


def schema_records() -> list[tuple[str, str]]:
    found = []
    for path in FILES:
        capture = json.loads(path.read_text())
        for record in capture["records"]:
            value = record["value"]
            if value and value.startswith('{"schema":'):
                found.append((path.stem, value))
    return found


@pytest.mark.parametrize("connector", ["postgresql", "mysql"])
def test_the_test_builder_writes_what_debezium_wrote(connector: str) -> None:
    """Pins: unit-test records drifting from Debezium 3.6's real layout."""
    from dbz_records import Col, Table, mysql_source, pg_source, record

    real = [
        json.loads(value)
        for _, value in schema_records()
        if f'"connector":"{connector}"' in value
    ]
    if not real:
        pytest.skip(f"no captured {connector} record with schemas")
    real_schema, real_payload = real[0]["schema"], real[0]["payload"]
    table = Table(connector, "p", "s", "t", [Col("id", "int32", False)])
    source = (
        pg_source(table, 1, None)
        if connector == "postgresql"
        else mysql_source(table, 1)
    )
    _, built = record(table, "c", None, {"id": 1}, source, schemas=True)
    built_schema, built_payload = (
        json.loads(built)["schema"],
        json.loads(built)["payload"],
    )

    assert list(built_payload) == list(real_payload)
    assert list(built_payload["source"]) == list(real_payload["source"])
    fields = lambda schema: [f["field"] for f in schema["fields"]]  # noqa: E731
    assert fields(built_schema) == fields(real_schema)
    real_source = next(f for f in real_schema["fields"] if f["field"] == "source")
    built_source = next(f for f in built_schema["fields"] if f["field"] == "source")
    assert built_source == real_source
    assert built_schema["version"] == real_schema["version"]
