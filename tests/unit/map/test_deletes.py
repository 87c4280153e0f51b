"""Delete policies and incomplete before-images (CASES C09)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import MappingError
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map import Mapping, load_mapping
from bridge.map.results import Filtered, Rejection, TargetOperation, TargetRow

CUSTOMERS = """\
version: 1
source: {table: shop.customer}
target: {table: tgt.customer, key: [%(key)s]}
columns:
  ID: {from: id}
  EMAIL: {from: email}
  REGION: {from: region}
on_delete: {policy: %(policy)s}
conflict: {policy: source_wins}
"""
COMMITTED = datetime(2024, 6, 15, 8, 0, tzinfo=UTC)


def customers(tmp_path: Path, *, key: str = "ID", policy: str = "delete") -> Mapping:
    path = tmp_path / "customers.yaml"
    path.write_text(CUSTOMERS % {"key": key, "policy": policy}, encoding="utf-8")
    return load_mapping(path)


def delete(before: dict[str, Any] | None) -> ChangeEvent:
    return ChangeEvent(
        Operation.DELETE,
        "t",
        "shop",
        "customer",
        {"id": 7},
        before,
        None,
        SourcePosition("t", (1,)),
        committed_at=COMMITTED,
    )


KEY_ONLY = {"id": 7, "email": None, "region": None}


def test_delete_with_key_only_before_image_deletes_by_key(tmp_path: Path) -> None:
    result = customers(tmp_path).apply(delete(KEY_ONLY))

    assert isinstance(result, TargetRow)
    assert result.operation is TargetOperation.DELETE
    assert dict(result.key) == {"ID": 7}
    assert dict(result.values) == {}


def test_delete_without_any_before_image_uses_the_event_key(tmp_path: Path) -> None:
    result = customers(tmp_path).apply(delete(None))

    assert isinstance(result, TargetRow)
    assert dict(result.key) == {"ID": 7}


def test_key_built_from_a_non_key_column_rejects_the_delete(tmp_path: Path) -> None:
    result = customers(tmp_path, key="EMAIL").apply(delete(KEY_ONLY))

    assert isinstance(result, Rejection)
    assert result.reason == (
        "the delete's before-image is incomplete: target key column EMAIL is built "
        "from email, which the before-image does not hold (set REPLICA IDENTITY FULL "
        "on the source table, or build the key from the source primary key)"
    )


def test_key_from_a_non_key_column_with_a_full_before_image(tmp_path: Path) -> None:
    before = {"id": 7, "email": "kim@example.test", "region": "EU"}

    result = customers(tmp_path, key="EMAIL").apply(delete(before))

    assert isinstance(result, TargetRow)
    assert dict(result.key) == {"EMAIL": "kim@example.test"}


def test_soft_delete_sets_the_column_to_the_commit_time(tmp_path: Path) -> None:
    path = tmp_path / "customers.yaml"
    path.write_text(
        CUSTOMERS.replace("{policy: %(policy)s}", "{policy: soft_delete, column: GONE}")
        % {"key": "ID"},
        encoding="utf-8",
    )

    result = load_mapping(path).apply(delete(KEY_ONLY))

    assert isinstance(result, TargetRow)
    assert result.operation is TargetOperation.SOFT_DELETE
    assert dict(result.values) == {"GONE": COMMITTED}


def test_ignore_policy_filters_the_delete(tmp_path: Path) -> None:
    result = customers(tmp_path, policy="ignore").apply(delete(KEY_ONLY))

    assert isinstance(result, Filtered)
    assert result.reason == "delete ignored: the mapping's on_delete policy is ignore"


def test_update_without_before_image_maps_the_after_image(tmp_path: Path) -> None:
    event = ChangeEvent(
        Operation.UPDATE,
        "t",
        "shop",
        "customer",
        {"id": 7},
        None,
        {"id": 7, "email": "kim@example.test", "region": "US"},
        SourcePosition("t", (2,)),
    )

    result = customers(tmp_path).apply(event)

    assert isinstance(result, TargetRow)
    assert dict(result.values) == {"ID": 7, "EMAIL": "kim@example.test", "REGION": "US"}


def test_one_way_mapping_has_no_reverse(tmp_path: Path) -> None:
    mapping = customers(tmp_path)

    with pytest.raises(MappingError) as caught:
        mapping.reverse({"ID": 7})

    assert str(caught.value) == (
        f"mapping customers ({tmp_path / 'customers.yaml'}) is one-way; it has no "
        "reverse. Declare 'direction: two_way' to derive one."
    )


def test_hard_deletes_under_newer_wins_are_warned_of(tmp_path: Path) -> None:
    """Pins: a replayed dead letter silently bringing back a row deleted since."""
    from bridge.map.check import check_files

    path = tmp_path / "customers.yaml"
    text = (CUSTOMERS % {"key": "ID", "policy": "delete"}).replace(
        "conflict: {policy: source_wins}", "conflict: {policy: newer_wins, column: ID}"
    )
    path.write_text(text, encoding="utf-8")

    report = check_files([path], None)

    assert report.ok
    assert [str(w).replace(str(path), "customers.yaml") for w in report.warnings] == [
        "customers.yaml:8:13: on_delete.policy: warning: a deleted row leaves nothing "
        "for newer_wins to compare with: a dead letter of the same key replayed after "
        "the delete writes the row again; soft_delete keeps the row and its conflict "
        "column, so newer_wins can refuse the older write"
    ]
