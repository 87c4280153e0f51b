"""The dead-letter form of a change event rebuilds the exact event."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from bridge.apply.eventjson import (
    decode_value,
    encode_value,
    event_from_json,
    event_to_json,
)
from bridge.errors import DecodeError
from bridge.events import UNAVAILABLE, ChangeEvent, Operation, SourcePosition

VALUES = [
    None, True, 7, 1.5, "kiss \U0001f48b 𠮷田", Decimal("-1.50"), Decimal("0.2346"),
    date(1500, 3, 10), datetime(2024, 2, 23, 8, 52, 14, 431487, tzinfo=UTC),
    datetime(2019, 3, 16, 11, 28, 27),
    datetime(2024, 6, 15, tzinfo=timezone(timedelta(hours=8))),
    time(12, 34, 56, 123456), timedelta(days=-1, microseconds=5), b"\x00\xff",
    UUID("12345678-1234-5678-1234-567812345678"), [1, Decimal("2.0")],
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES)
def test_values_keep_type_and_value(value: object) -> None:
    back = decode_value(encode_value(value))

    assert (type(back), back) == (type(value), value)


def test_unavailable_placeholder_survives() -> None:
    assert decode_value(encode_value(UNAVAILABLE)) is UNAVAILABLE


def test_unknown_types_are_refused_with_the_value_named() -> None:
    with pytest.raises(DecodeError) as caught:
        encode_value(object)

    assert str(caught.value) == (
        "value <class 'object'> of type type cannot be stored in a dead letter; "
        "the batch stops until the type is supported"
    )


def test_whole_event_round_trips() -> None:
    event = ChangeEvent(
        op=Operation.DELETE,
        source="xyzg",
        schema="xyzg",
        table="xyxf_jg",
        key={"xf_bh": "XF-1"},
        before={"xf_bh": "XF-1", "cf_nr_fk": Decimal("0.050000"), "note": UNAVAILABLE},
        after=None,
        position=SourcePosition("xyzg", (23, 24, 1), False, {"lsn": "0/17"}),
        committed_at=datetime(2024, 6, 14, 16, 0, tzinfo=UTC),
        transaction_id="771",
        raw='{"op": "d"}',
    )

    assert event_from_json(event_to_json(event)) == event
