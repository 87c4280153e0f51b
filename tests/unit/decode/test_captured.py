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
