"""Shared helpers for the map stage's unit tests: events built at our own seam."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map import Mapping as CompiledMapping
from bridge.map import load_mapping

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"

EventFactory = Callable[..., ChangeEvent]


def make_event(
    op: str,
    *,
    after: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    key: Mapping[str, Any] | None = None,
    table: str = "xyxf_jg",
    committed_at: datetime | None = None,
) -> ChangeEvent:
    return ChangeEvent(
        op=Operation(op),
        source="test",
        schema="xyzg",
        table=table,
        key=dict(key) if key is not None else {},
        before=before,
        after=after,
        position=SourcePosition("test", (1, 2, 3)),
        committed_at=committed_at,
    )


@pytest.fixture
def event() -> EventFactory:
    return make_event


@pytest.fixture(scope="session")
def xyzg_to_gsxt() -> CompiledMapping:
    return load_mapping(MAPPINGS / "xyzg_to_gsxt.yaml")


@pytest.fixture(scope="session")
def gsxt_to_xyzg() -> CompiledMapping:
    return load_mapping(MAPPINGS / "gsxt_to_xyzg.yaml")


@pytest.fixture(scope="session")
def gsxt_cases_to_xyzg() -> CompiledMapping:
    return load_mapping(MAPPINGS / "gsxt_cases_to_xyzg.yaml")
