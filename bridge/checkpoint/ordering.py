"""Which redelivered events a stored checkpoint already covers.

Positions compare by ``SourcePosition.order``: an event at or before the stored order
was applied in an earlier committed batch (equal orders are the same change). Snapshot
reads are the exception: they share one position, so they are always kept and their
upserts of current state simply run again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from bridge.events import ChangeEvent, SourcePosition


class HasEvent(Protocol):
    @property
    def event(self) -> ChangeEvent: ...


R = TypeVar("R", bound=HasEvent)


def unapplied(
    results: Iterable[R], stored: SourcePosition | None
) -> tuple[list[R], SourcePosition | None]:
    """The results not yet applied, and the checkpoint once they are."""
    fresh: list[R] = []
    position = stored
    for result in results:
        event_position = result.event.position
        covered = position is not None and event_position.order <= position.order
        if covered and not event_position.snapshot:
            continue
        fresh.append(result)
        if position is None or event_position.order >= position.order:
            position = event_position
    return fresh, position
