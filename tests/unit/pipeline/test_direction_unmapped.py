"""A captured table no mapping reads, or a record that does not decode, is a dead
letter that names no mapping, with a reason saying what to do."""

from __future__ import annotations

from test_direction_snapshot import CONFIG, NoApplier, Record, row

from bridge.decode import DecodeSettings, RecordDecoder
from bridge.map.results import Rejection
from bridge.pipeline.direction import Direction


def _direction() -> Direction:
    settings = DecodeSettings.from_connector_config("cc.json", CONFIG)
    return Direction(
        "xyzg-to-gsxt", RecordDecoder(settings), [], NoApplier(), source="postgres"
    )


def test_a_table_without_mapping_is_rejected_naming_the_table() -> None:
    [result] = _direction().map_records([row(1, "t", snapshot=False)])

    assert isinstance(result, Rejection)
    assert (result.mapping.name, result.error_class) == ("(no mapping)", "MappingError")
    assert result.reason == (
        "no mapping of pipeline xyzg-to-gsxt reads s.t; add one and replay this "
        "dead letter"
    )


def test_an_undecodable_record_is_rejected_with_the_decoder_message() -> None:
    broken = Record('{"id": 1}', '{"op": "c", "source": 7}', "cc.s.t")

    [result] = _direction().map_records([broken])

    assert isinstance(result, Rejection)
    assert (result.mapping.name, result.error_class) == (
        "(no mapping)",
        "RecordDecodeError",
    )
    assert result.reason.endswith("The record goes to the dead-letter table.")
