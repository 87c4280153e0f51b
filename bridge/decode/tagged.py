"""Decoded values as tagged JSON, so that expected results can live in files.

Plain JSON cannot tell ``Decimal("7.90")`` from ``"7.90"`` or a date from a string.
:func:`to_tagged` writes each non-JSON value as a one-key object (``{"$decimal":
"7.90"}``, ``{"$date": "2019-03-16"}``, ``{"$instant": "...+00:00"}`` ...) and
:func:`from_tagged` reads it back, exactly. :func:`event_to_tagged` gives the parts of
a :class:`~bridge.events.ChangeEvent` that decoding decides; the captured-record
fixtures compare against that form.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from bridge.events import UNAVAILABLE, ChangeEvent

_MICROSECOND = timedelta(microseconds=1)


def _datetime_tag(value: datetime) -> dict[str, str]:
    tag = "$datetime" if value.tzinfo is None else "$instant"
    return {tag: value.isoformat()}


_WRITERS: list[tuple[type, Callable[[Any], Any]]] = [
    (Decimal, lambda v: {"$decimal": str(v)}),
    (datetime, _datetime_tag),
    (date, lambda v: {"$date": v.isoformat()}),
    (time, lambda v: {"$time": v.isoformat()}),
    (timedelta, lambda v: {"$micros": v // _MICROSECOND}),
    (bytes, lambda v: {"$base64": base64.b64encode(v).decode()}),
    (uuid.UUID, lambda v: {"$uuid": str(v)}),
    (tuple, lambda v: {"$set": list(v)}),
]

_READERS: dict[str, Callable[[Any], Any]] = {
    "$decimal": Decimal,
    "$datetime": datetime.fromisoformat,
    "$instant": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$micros": lambda v: timedelta(microseconds=v),
    "$base64": base64.b64decode,
    "$uuid": uuid.UUID,
    "$set": tuple,
    "$unavailable": lambda _: UNAVAILABLE,
}


def to_tagged(value: Any) -> Any:
    """A JSON-ready form of a decoded value."""
    if value is UNAVAILABLE:
        return {"$unavailable": True}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [to_tagged(item) for item in value]
    if isinstance(value, Mapping):
        return {"$map": {str(k): to_tagged(v) for k, v in value.items()}}
    for kind, write in _WRITERS:
        if isinstance(value, kind):
            return write(value)
    raise TypeError(f"no tagged form for {type(value).__name__} {value!r}")


def from_tagged(value: Any) -> Any:
    """The inverse of :func:`to_tagged`."""
    if isinstance(value, list):
        return [from_tagged(item) for item in value]
    if not isinstance(value, dict):
        return value
    (tag, inner), *_ = value.items()
    if tag == "$map":
        return {k: from_tagged(v) for k, v in inner.items()}
    return _READERS[tag](inner)


def row_to_tagged(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {name: to_tagged(value) for name, value in row.items()}


def event_to_tagged(event: ChangeEvent | None) -> dict[str, Any] | None:
    """The decided parts of an event; ``None`` for a tombstone."""
    if event is None:
        return None
    committed = event.committed_at
    return {
        "op": event.op.value,
        "table": event.qualified_table,
        "key": row_to_tagged(event.key),
        "before": row_to_tagged(event.before),
        "after": row_to_tagged(event.after),
        "order": list(event.position.order),
        "snapshot": event.position.snapshot,
        "transaction_id": event.transaction_id,
        "committed_at": None if committed is None else committed.isoformat(),
    }
