"""Tagged JSON of decoded values: every kind survives the round trip exactly."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.decode.tagged import from_tagged, to_tagged
from bridge.events import UNAVAILABLE


@pytest.mark.parametrize(
    ("value", "tagged"),
    [
        (Decimal("7.90"), {"$decimal": "7.90"}),
        (date(1500, 3, 10), {"$date": "1500-03-10"}),
        (datetime(2019, 3, 16, 11, 28, 27), {"$datetime": "2019-03-16T11:28:27"}),
        (
            datetime(2024, 2, 23, 8, 52, 14, 431487, tzinfo=UTC),
            {"$instant": "2024-02-23T08:52:14.431487+00:00"},
        ),
        (time(8, 52, 14, tzinfo=UTC), {"$time": "08:52:14+00:00"}),
        (-timedelta(hours=838), {"$micros": -3016800000000}),
        (b"\xde\xad", {"$base64": "3q0="}),
        (uuid.UUID(int=1), {"$uuid": "00000000-0000-0000-0000-000000000001"}),
        (("a", "b"), {"$set": ["a", "b"]}),
        (UNAVAILABLE, {"$unavailable": True}),
        ({"x": 1}, {"$map": {"x": 1}}),
        (["a", Decimal("1")], ["a", {"$decimal": "1"}]),
        ("7.90", "7.90"),
        (None, None),
    ],
)
def test_round_trip(value: Any, tagged: Any) -> None:
    assert to_tagged(value) == tagged
    restored = from_tagged(json.loads(json.dumps(tagged)))
    assert restored == value or restored is value
    assert type(restored) is type(value)
    if isinstance(value, Decimal):
        assert str(restored) == str(value)
