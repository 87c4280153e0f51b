"""The dead-letter table: rows the bridge could not write, kept for people to work.

Each bad event gets exactly one row, found again by a fingerprint of its source
position, table and key, so a redelivered event (a snapshot re-read, a batch retried
after a crash) updates its row instead of adding a second one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.apply.dialects import dialect_for
from bridge.apply.eventjson import encode_row, event_to_json
from bridge.apply.plan import key_identity
from bridge.apply.schema import dead_letter
from bridge.events import ChangeEvent, Operation
from bridge.map.results import MappingRef

log = logging.getLogger(__name__)


class Status:
    NEW = "new"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One bad event: what it was, which mapping saw it and what went wrong."""

    event: ChangeEvent
    mapping: MappingRef
    error_class: str
    message: str
    error_code: str | None = None
    target_table: str | None = None


def fingerprint(event: ChangeEvent) -> str:
    """Identifies one source change, also among snapshot reads sharing a position.

    A snapshot read is identified by its row alone: a snapshot taken again (stopped
    midway, or ``--snapshot-again``) reads the row at another position, and its
    failure is the same dead letter, not a second one.
    """
    position = event.position
    # An undecodable record's stand-in also sits at a snapshot position, but it has
    # no key to tell it from another: it keeps its position.
    by_row = position.snapshot and event.op is Operation.READ and bool(event.key)
    order = "snapshot" if by_row else list(position.order)
    identity = json.dumps(
        [
            position.source,
            order,
            position.snapshot,
            key_identity(event.qualified_table, event.key),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(identity.encode()).hexdigest()


def record(connection: Connection, pipeline: str, letter: DeadLetter) -> int:
    """Insert or refresh the dead-letter row of *letter*; return its id."""
    event = letter.event
    mark = fingerprint(event)
    now = _now(connection)
    error = {
        "error_class": letter.error_class,
        "error_code": letter.error_code,
        "message": letter.message,
        "target_table": letter.target_table,
    }
    existing = connection.execute(
        sa.select(dead_letter.c.id, dead_letter.c.status).where(
            dead_letter.c.pipeline == pipeline, dead_letter.c.fingerprint == mark
        )
    ).first()
    if existing is not None:
        # The row as read this time: a new snapshot may have read it changed.
        current = {
            "source_position": event.position.to_json(),
            "position_order": json.dumps(list(event.position.order)),
            "event": event_to_json(event),
            "raw_event": event.raw,
        }
        if existing.status != Status.NEW:
            # Handled before, failing again: it needs handling again.
            current |= {"status": Status.NEW, "discard_reason": None}
            log.warning(
                "dead letter %s for pipeline %s reopened (was %s): %s",
                existing.id,
                pipeline,
                existing.status,
                letter.message,
            )
        connection.execute(
            dead_letter.update()
            .where(dead_letter.c.id == existing.id)
            .values(attempts=dead_letter.c.attempts + 1, **error, **current)
        )
        return int(existing.id)

    inserted = connection.execute(
        dead_letter.insert().values(
            pipeline=pipeline,
            fingerprint=mark,
            created_at=now,
            source_table=event.qualified_table,
            event_key=json.dumps(encode_row(event.key), ensure_ascii=False),
            source_position=event.position.to_json(),
            position_order=json.dumps(list(event.position.order)),
            event=event_to_json(event),
            raw_event=event.raw,
            mapping_name=letter.mapping.name,
            mapping_path=letter.mapping.path,
            mapping_version=letter.mapping.version,
            status=Status.NEW,
            **error,
        )
    )
    primary_key = inserted.inserted_primary_key
    assert primary_key is not None
    letter_id = int(primary_key[0])
    log.warning(
        "dead letter %s for pipeline %s: %s key %s at %s: %s",
        letter_id,
        pipeline,
        event.qualified_table,
        json.dumps(encode_row(event.key), ensure_ascii=False),
        event.position,
        letter.message,
    )
    return letter_id


def list_letters(
    connection: Connection,
    pipeline: str | None = None,
    status: str | None = Status.NEW,
    limit: int = 100,
) -> list[sa.Row[Any]]:
    query = sa.select(dead_letter).order_by(dead_letter.c.id).limit(limit)
    if pipeline is not None:
        query = query.where(dead_letter.c.pipeline == pipeline)
    if status is not None:
        query = query.where(dead_letter.c.status == status)
    return list(connection.execute(query))


def get_letter(
    connection: Connection, letter_id: int, *, lock: bool = False
) -> sa.Row[Any] | None:
    query = sa.select(dead_letter).where(dead_letter.c.id == letter_id)
    if lock:
        query = query.with_for_update()
    return connection.execute(query).first()


def mark_replayed(connection: Connection, letter_id: int) -> None:
    connection.execute(
        dead_letter.update()
        .where(dead_letter.c.id == letter_id)
        .values(status=Status.REPLAYED, replayed_at=_now(connection))
    )


def mark_discarded(connection: Connection, letter_id: int, reason: str) -> None:
    connection.execute(
        dead_letter.update()
        .where(dead_letter.c.id == letter_id)
        .values(status=Status.DISCARDED, discard_reason=reason)
    )


def refresh_error(connection: Connection, letter_id: int, letter: DeadLetter) -> None:
    """A replay failed again: keep the row new, with the latest error."""
    connection.execute(
        dead_letter.update()
        .where(dead_letter.c.id == letter_id)
        .values(
            attempts=dead_letter.c.attempts + 1,
            error_class=letter.error_class,
            error_code=letter.error_code,
            message=letter.message,
            mapping_version=letter.mapping.version,
        )
    )


def _now(connection: Connection) -> datetime:
    value: datetime = dialect_for(connection.dialect.name).bind_value(datetime.now(UTC))
    return value


def key_text(event_key: str) -> str:
    """A dead letter's key as people search for it: the value of a one-column key.

    ``{"xf_bh": "XF-1"}`` is ``XF-1``; a key of several columns is ``a=1 b=2``.
    """
    try:
        key = json.loads(event_key)
    except ValueError:
        return event_key
    if not isinstance(key, dict) or not key:
        return event_key
    if len(key) == 1:
        return str(next(iter(key.values())))
    return " ".join(f"{name}={value}" for name, value in key.items())
