"""A typed JSON form of :class:`~bridge.events.ChangeEvent` for the dead-letter table
and the held events of open source transactions (``bridge.pending_event``).

Replay rebuilds the exact event from it, so every value keeps its Python type:
``Decimal``, dates, times, aware and naive datetimes, bytes, UUIDs and the TOAST
placeholder are written as one-key objects tagged with a ``$`` name.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from bridge.errors import DecodeError
from bridge.events import UNAVAILABLE, ChangeEvent, Operation, SourcePosition


def encode_value(value: Any) -> Any:
    """A JSON-ready form of one column value."""
    if value is UNAVAILABLE:
        return {"$unavailable": True}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _encode_tagged(value)


def _encode_tagged(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$interval_us": value // timedelta(microseconds=1)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, UUID):
        return {"$uuid": str(value)}
    if isinstance(value, Mapping):
        return {"$map": {str(k): encode_value(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    raise DecodeError(
        f"value {value!r} of type {type(value).__name__} cannot be stored in a dead "
        "letter; the batch stops until the type is supported"
    )


_DECODERS: dict[str, Any] = {
    "$unavailable": lambda _: UNAVAILABLE,
    "$decimal": Decimal,
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$interval_us": lambda us: timedelta(microseconds=us),
    "$bytes": base64.b64decode,
    "$uuid": UUID,
    "$map": lambda items: {k: decode_value(v) for k, v in items.items()},
}


def decode_value(value: Any) -> Any:
    """The Python value :func:`encode_value` wrote."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict) and len(value) == 1:
        ((tag, payload),) = value.items()
        if tag in _DECODERS:
            return _DECODERS[tag](payload)
    return value


def encode_row(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {name: encode_value(value) for name, value in row.items()}


def decode_row(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {name: decode_value(value) for name, value in row.items()}


def event_to_json(event: ChangeEvent) -> str:
    """The whole event, raw Debezium JSON included, as one JSON text."""
    document = {
        "op": event.op.value,
        "source": event.source,
        "schema": event.schema,
        "table": event.table,
        "key": encode_row(event.key),
        "before": encode_row(event.before),
        "after": encode_row(event.after),
        "position": json.loads(event.position.to_json()),
        "committed_at": encode_value(event.committed_at),
        "transaction_id": event.transaction_id,
        "raw": event.raw,
    }
    if event.transaction_order is not None:
        document["transaction_order"] = event.transaction_order
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def event_from_json(text: str) -> ChangeEvent:
    """The event :func:`event_to_json` wrote."""
    document = json.loads(text)
    return ChangeEvent(
        op=Operation(document["op"]),
        source=document["source"],
        schema=document["schema"],
        table=document["table"],
        key=decode_row(document["key"]) or {},
        before=decode_row(document["before"]),
        after=decode_row(document["after"]),
        position=SourcePosition.from_json(json.dumps(document["position"])),
        committed_at=decode_value(document["committed_at"]),
        transaction_id=document["transaction_id"],
        raw=document["raw"],
        transaction_order=document.get("transaction_order"),
    )
