"""parse_json (bridge.decode.envelope) parses exactly as json.loads does.

Pins: a faster parser (orjson) was tried and turned integers beyond 64 bits into
floats without an error; whatever parses change events must keep them exact.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.decode.envelope import parse_json

BIG = 123456789012345678901234567890

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(document=_JSON, ascii_only=st.booleans())
def test_documents_parse_as_json_loads_parses_them(
    document: Any, ascii_only: bool
) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)

    assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Beyond 64 bits: kept exact, never rounded to a float.
        (f'{{"n": {BIG}}}', {"n": BIG}),
        ('{"n": -18446744073709551617}', {"n": -18446744073709551617}),
        # A lone surrogate (escaped) is kept as json.loads keeps it.
        ('{"s": "\\ud800"}', {"s": "\ud800"}),
        ('{"price": 0.1}', {"price": 0.1}),
        (' {"padded": true} ', {"padded": True}),
    ],
)
def test_edge_values_are_parsed_as_json_loads_parses_them(
    text: str, expected: Any
) -> None:
    assert parse_json(text) == expected


def test_nan_is_parsed_as_json_loads_parses_it() -> None:
    assert math.isnan(parse_json('{"x": NaN}')["x"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1', "Expecting ',' delimiter: line 1 column 8 (char 7)"),
        ("", "Expecting value: line 1 column 1 (char 0)"),
        ('{"a": 1} x', "Extra data: line 1 column 10 (char 9)"),
    ],
)
def test_errors_are_json_loads_errors(text: str, message: str) -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        parse_json(text)

    assert str(raised.value) == message
