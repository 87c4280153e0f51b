"""CASES C10 (an explicit NULL is not a default) and C07 (TINYINT(1) flags)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map import Mapping, load_mapping
from bridge.map.results import TargetRow

CLAIMS = """\
version: 1
source: {table: shop.claim}
target: {table: tgt.claim, key: [id]}
columns:
  id: {from: id}
  method: {from: method, default: MANUAL}
  score: {from: score, default: 5}
  active: {from: active, transforms: [bool_from_int]}
  level: {from: level}
conflict: {policy: source_wins}
"""


@pytest.fixture
def claims(tmp_path: Path) -> Mapping:
    path = tmp_path / "claims.yaml"
    path.write_text(CLAIMS, encoding="utf-8")
    return load_mapping(path)


def mapped(mapping: Mapping, after: dict[str, Any]) -> dict[str, Any]:
    event = ChangeEvent(
        Operation.CREATE,
        "t",
        "shop",
        "claim",
        {},
        None,
        after,
        SourcePosition("t", (1,)),
    )
    result = mapping.apply(event)
    assert isinstance(result, TargetRow), result
    return dict(result.values)


def test_explicit_null_is_never_replaced_by_a_default(claims: Mapping) -> None:
    row = {"id": 60001, "method": None, "score": None, "active": 1, "level": 1}
    assert mapped(claims, row) == {
        "id": 60001, "method": None, "score": None, "active": True, "level": 1
    }  # fmt: skip


def test_default_applies_only_to_an_absent_field(claims: Mapping) -> None:
    row = {"id": 60002, "active": 0, "level": 0}
    assert mapped(claims, row) == {
        "id": 60002, "method": "MANUAL", "score": 5, "active": False, "level": 0
    }  # fmt: skip


@pytest.mark.parametrize(
    ("active", "level", "expected_active"),
    [(0, 0, False), (1, 1, True), (2, 2, True), (-1, -1, True), (None, None, None)],
)
def test_tinyint_flag_becomes_boolean_level_stays_untouched(
    claims: Mapping, active: int | None, level: int | None, expected_active: bool | None
) -> None:
    values = mapped(
        claims, {"id": 1, "method": "X", "score": 1, "active": active, "level": level}
    )
    assert values["active"] is expected_active
    assert values["level"] == level
