"""Typed change events: what the decode stage hands to every later stage.

A Debezium record is decoded exactly once, in :mod:`bridge.decode`, into a
:class:`ChangeEvent`. Later stages never look at Debezium JSON again; they read proper
Python values (``Decimal``, ``date``, aware ``datetime``, ``bytes`` ...) from
``before`` and ``after``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final


class Operation(enum.StrEnum):
    """Debezium's ``op`` codes."""

    READ = "r"
    CREATE = "c"
    UPDATE = "u"
    DELETE = "d"


class _Unavailable:
    """The value of a column Debezium did not send (PostgreSQL TOAST placeholder)."""

    _instance: _Unavailable | None = None

    def __new__(cls) -> _Unavailable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNAVAILABLE"

    def __bool__(self) -> bool:
        return False


UNAVAILABLE: Final = _Unavailable()
"""Stands for ``__debezium_unavailable_value``: the value is unknown, never write it."""


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where an event sits in its source's change stream.

    ``order`` is a tuple of integers that never decreases in delivery order within one
    source (PostgreSQL: commit LSN, change LSN, ordinal among events sharing that LSN;
    MySQL: binlog file number, event position, row, ordinal). Two events with equal
    ``order`` are the same change. ``fields`` keeps the native coordinates for people
    (LSN as ``0/16B3748``, transaction id, binlog file, GTID ...).
    """

    source: str
    order: tuple[int, ...]
    snapshot: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "source": self.source,
                "order": list(self.order),
                "snapshot": self.snapshot,
                "fields": dict(self.fields),
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> SourcePosition:
        data = json.loads(text)
        return cls(
            source=data["source"],
            order=tuple(data["order"]),
            snapshot=data.get("snapshot", False),
            fields=data.get("fields", {}),
        )

    def __str__(self) -> str:
        native = " ".join(f"{k}={v}" for k, v in self.fields.items() if v is not None)
        prefix = "snapshot " if self.snapshot else ""
        return f"{prefix}{self.source} {native}".strip()


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One row change, decoded.

    ``before`` is ``None`` when the source sent no before-image (PostgreSQL with
    ``REPLICA IDENTITY DEFAULT`` on update); columns it did not send hold
    :data:`UNAVAILABLE` when Debezium said so explicitly. ``transaction_order`` is
    the event's ``total_order`` in its source transaction when Debezium sends
    transaction metadata (``provide.transaction.metadata``), else ``None``.
    """

    op: Operation
    source: str
    schema: str | None
    table: str
    key: Mapping[str, Any]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    position: SourcePosition
    committed_at: datetime | None = None
    transaction_id: str | None = None
    raw: str | None = None
    transaction_order: int | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def row(self) -> Mapping[str, Any]:
        """The row image that describes the change: after, or before for a delete."""
        image = self.before if self.op is Operation.DELETE else self.after
        return image if image is not None else self.key
