"""What the map stage hands to the apply stage for each change event.

Mapping one :class:`~bridge.events.ChangeEvent` yields exactly one of:

* :class:`TargetRow`: a row to upsert, delete or soft-delete in the target table;
* :class:`Rejection`: the row cannot be mapped; it goes to the dead-letter table;
* :class:`Filtered`: a declared filter (loop guard, privacy rule) keeps it out on
  purpose; nothing is written and the source position moves on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.events import ChangeEvent


class TargetOperation(enum.StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"
    SOFT_DELETE = "soft_delete"


@dataclass(frozen=True, slots=True)
class MappingRef:
    """Which mapping produced a result: its name, file and content hash."""

    name: str
    path: str
    version: str


@dataclass(frozen=True, slots=True)
class TargetRow:
    table: str
    operation: TargetOperation
    key: Mapping[str, Any]
    values: Mapping[str, Any]
    event: ChangeEvent
    mapping: MappingRef


@dataclass(frozen=True, slots=True)
class Rejection:
    event: ChangeEvent
    mapping: MappingRef
    error_class: str
    reason: str


@dataclass(frozen=True, slots=True)
class Filtered:
    event: ChangeEvent
    mapping: MappingRef
    reason: str


MapResult = TargetRow | Rejection | Filtered
