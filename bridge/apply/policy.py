"""Conflict policies: what happens when a row with the same key already exists."""

from __future__ import annotations

import enum
from dataclasses import dataclass

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
