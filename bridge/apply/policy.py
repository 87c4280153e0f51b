"""Conflict policies: what happens when a row with the same key already exists."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

DEFAULT_VERSION_COLUMN = "cb_src_commit_ts"
"""The source commit time column of the demo staging tables (any letter case)."""


class ConflictKind(enum.StrEnum):
    NEWER_WINS = "newer_wins"
    SOURCE_WINS = "source_wins"
    TARGET_WINS = "target_wins"
    PARK = "park"


@dataclass(frozen=True, slots=True)
class ConflictPolicy:
    """A table's policy; ``column`` orders decisions under ``newer_wins``.

    Under ``newer_wins`` a write lands only when its ``column`` value is at least the
    stored one, so an older decision never overwrites a newer one, whichever arrives
    first. ``source_wins`` always writes, ``target_wins`` only inserts missing rows,
    ``park`` inserts missing rows and parks the others in ``bridge.conflict``.
    """

    kind: ConflictKind = ConflictKind.NEWER_WINS
    column: str | None = DEFAULT_VERSION_COLUMN

    @classmethod
    def newer_wins(cls, column: str = DEFAULT_VERSION_COLUMN) -> ConflictPolicy:
        return cls(ConflictKind.NEWER_WINS, column)

    @classmethod
    def source_wins(cls) -> ConflictPolicy:
        return cls(ConflictKind.SOURCE_WINS, None)

    @classmethod
    def target_wins(cls) -> ConflictPolicy:
        return cls(ConflictKind.TARGET_WINS, None)

    @classmethod
    def park(cls) -> ConflictPolicy:
        return cls(ConflictKind.PARK, None)

    @property
    def versioned(self) -> bool:
        return self.kind is ConflictKind.NEWER_WINS


@dataclass(frozen=True, slots=True)
class MetadataFill:
    """Target columns the applier fills itself on every write (``None``: absent).

    ``deleted_at`` is the soft-delete column: an upsert clears it, because a row the
    source writes again exists again.
    """

    origin: str | None = None
    origin_value: str | None = None
    source_position: str | None = None
    source_commit_time: str | None = None
    applied_at: str | None = None
    deleted_at: str | None = None


@dataclass(frozen=True, slots=True)
class TargetSettings:
    """How the applier writes one target table."""

    policy: ConflictPolicy = ConflictPolicy()
    metadata: MetadataFill = MetadataFill()


def settings_from_mapping(mapping: Any) -> tuple[str, TargetSettings]:
    """The target table of a compiled :class:`bridge.map.Mapping` and its settings."""
    declared = mapping.conflict
    meta = mapping.metadata_columns
    deleted = mapping.delete_policy.column
    kind = ConflictKind(declared.policy)
    column = None
    if kind is ConflictKind.NEWER_WINS:
        column = declared.column or meta.source_commit_time
    fill = MetadataFill(
        origin=meta.origin,
        origin_value=meta.origin_value,
        source_position=meta.source_position,
        source_commit_time=meta.source_commit_time,
        applied_at=meta.applied_at,
        deleted_at=deleted if mapping.delete_policy.policy == "soft_delete" else None,
    )
    return mapping.target_table, TargetSettings(ConflictPolicy(kind, column), fill)
