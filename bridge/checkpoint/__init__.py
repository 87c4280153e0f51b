"""Checkpoint stage: the last applied source position, stored with the rows."""

from bridge.checkpoint.ordering import unapplied
from bridge.checkpoint.store import (
    Checkpoint,
    read_checkpoint,
    read_offsets,
    write_checkpoint,
    write_offsets,
)

__all__ = [
    "Checkpoint",
    "read_checkpoint",
    "read_offsets",
    "unapplied",
    "write_checkpoint",
    "write_offsets",
]
