"""PostgreSQL replication slots: which ones hold WAL back, and by how much.

A slot outlives the engine that created it. While nothing reads it (the bridge is
stopped, or a test forgot to drop its slot) the server keeps every WAL segment since
the slot's restart position, until the disk fills. Operators watch this report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from bridge.errors import CaptureError

log = logging.getLogger(__name__)

_SLOTS = sa.text(
    """
    SELECT slot_name, plugin, database, active,
           pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained
    FROM pg_replication_slots
    WHERE slot_type = 'logical'
    ORDER BY slot_name
    """
)


@dataclass(frozen=True, slots=True)
class SlotStatus:
    """One logical replication slot; ``retained_bytes`` is WAL kept for it."""

    name: str
    plugin: str
    database: str
    active: bool
    retained_bytes: int


def replication_slots(url: str | sa.URL) -> list[SlotStatus]:
    """Every logical slot on the server at *url* (a SQLAlchemy URL, any account)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(_SLOTS).all()
    except sa.exc.DBAPIError as exc:
        where = sa.make_url(url).render_as_string(hide_password=True)
        raise CaptureError(
            f"cannot read replication slots from {where}: {exc.orig}; "
            "the slot report is unavailable until the server answers"
        ) from exc
    finally:
        engine.dispose()
    return [
        SlotStatus(
            name=row.slot_name,
            plugin=row.plugin,
            database=row.database,
            active=bool(row.active),
            retained_bytes=int(row.retained or 0),
        )
        for row in rows
    ]


def inactive_slots(url: str | sa.URL, min_retained_bytes: int = 0) -> list[SlotStatus]:
    """Slots nobody reads that retain more than *min_retained_bytes* of WAL.

    Each one is logged as a warning: left alone, it fills the server's disk.
    """
    idle = [
        slot
        for slot in replication_slots(url)
        if not slot.active and slot.retained_bytes > min_retained_bytes
    ]
    for slot in idle:
        log.warning(
            "replication slot %s (database %s) is inactive and retains %d bytes of "
            "WAL; start its pipeline or drop the slot",
            slot.name,
            slot.database,
            slot.retained_bytes,
        )
    return idle
