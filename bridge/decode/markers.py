"""Debezium's transaction boundaries (``provide.transaction.metadata=true``).

With the setting on, Debezium writes a BEGIN and an END record for every source
transaction to the topic ``<topic.prefix>.transaction`` (the suffix is
``topic.transaction``), and each change event carries a ``transaction`` block with
``id``, ``total_order`` and ``data_collection_order``. A boundary record is not a row
change, so it never goes through :class:`~bridge.decode.RecordDecoder`; it decodes
here into a :class:`TransactionMarker`::

    {"status": "END", "id": "7901:805399536", "event_count": 7,
     "data_collections": [{"data_collection": "s.t", "event_count": 7}], ...}

The marker's ``transaction_id`` has the form of :attr:`ChangeEvent.transaction_id`,
so the two compare equal. MySQL's id is the GTID, as in the source block.
PostgreSQL's is ``<txId>:<lsn>`` where Debezium 3.6 puts the LSN of the record at
hand, so BEGIN, each change and END of one transaction carry different ids (seen on
the real engine); only the ``txId`` part is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bridge.decode.envelope import RecordDecodeError, parse_json
from bridge.decode.settings import POSTGRESQL

TRANSACTION_METADATA = "provide.transaction.metadata"
_STATUSES = ("BEGIN", "END")

Status = Literal["BEGIN", "END"]


@dataclass(frozen=True, slots=True)
class TransactionMarker:
    """A source transaction began or ended; ``event_count`` comes with END only."""

    status: Status
    transaction_id: str
    event_count: int | None = None


def transaction_topic(config: Mapping[str, Any]) -> str | None:
    """The topic of the boundary records, or None when the connector sends none."""
    if str(config.get(TRANSACTION_METADATA, "false")).lower() != "true":
        return None
    prefix = config.get("topic.prefix")
    if not prefix:
        return None
    delimiter = config.get("topic.delimiter") or "."
    suffix = config.get("topic.transaction") or "transaction"
    return f"{prefix}{delimiter}{suffix}"


def decode_marker(
    value: bytes | str | None, connector: str, topic: str | None = None
) -> TransactionMarker:
    """The marker in a boundary record's value; *connector* is ``postgresql`` or
    ``mysql`` (:attr:`DecodeSettings.connector`)."""
    text = value.decode("utf-8") if isinstance(value, bytes) else value
    if not text:
        raise RecordDecodeError("transaction boundary record has no value", topic=topic)
    try:
        document = parse_json(text)
    except ValueError as exc:
        raise RecordDecodeError(f"value is not JSON ({exc})", topic=topic) from exc
    if isinstance(document, dict) and "payload" in document and "schema" in document:
        document = document["payload"]
    if not isinstance(document, dict):
        raise RecordDecodeError(
            "transaction boundary is not a JSON object", topic=topic
        )

    status = document.get("status")
    raw_id = document.get("id")
    if status not in _STATUSES or not isinstance(raw_id, str) or not raw_id:
        raise RecordDecodeError(
            f"transaction boundary with status {status!r} and id {raw_id!r}",
            topic=topic,
        )
    count = document.get("event_count")
    return TransactionMarker(
        status=status,
        transaction_id=_native_id(raw_id, connector),
        event_count=count if isinstance(count, int) else None,
    )


def _native_id(raw_id: str, connector: str) -> str:
    if connector == POSTGRESQL:
        return raw_id.split(":", 1)[0]
    return raw_id
