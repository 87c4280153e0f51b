"""Source positions from Debezium's ``source`` block, with a total delivery order.

``SourcePosition.order`` is compared as a tuple by the checkpoint, so it must never
decrease in delivery order within one source, and two different changes must never
share it.

PostgreSQL: ``(commit_lsn, lsn, ordinal)``

* ``commit_lsn`` is the first element of ``sequence`` (``["<last commit lsn>",
  "<lsn>"]``, LSNs as decimal text): constant within a transaction and growing from
  one transaction to the next in commit order, which is the order pgoutput delivers.
  It is ``null`` before the first commit the connector has seen (the snapshot and
  the first streamed transaction); it then counts as 0, which still sorts those
  events before everything that follows.
* ``lsn`` is the change's own WAL position (``source.lsn``), growing within a
  transaction. Changes of concurrent transactions interleave in the WAL, which is
  why the commit LSN comes first.

MySQL: ``(binlog file number, pos, row, ordinal)``

* the number of ``file`` (``binlog.000003`` -> 3), ``pos`` the binlog event's offset
  in that file, ``row`` the row's index inside a multi-row binlog event.

``ordinal`` tells apart events that share one native position: every row of a
snapshot carries the snapshot's LSN or binlog coordinates. :class:`PositionSequencer`
assigns it: 0 for the first event at a native position, then 1, 2 ... while the native
position repeats, back to 0 when it changes. It relies on Debezium redelivering from
the first event of such a group after a restart, which holds for streaming; a
restarted snapshot re-reads whole tables anyway. Without a sequencer the ordinal is 0.

``fields`` keeps the native coordinates for people: PostgreSQL ``lsn`` and
``commit_lsn`` rendered like ``0/16B3748``, ``txid``; MySQL ``file``, ``pos``, ``row``,
``gtid``, ``server_id``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from bridge.events import SourcePosition

log = logging.getLogger(__name__)

_NOT_SNAPSHOT = frozenset({None, "false", False})


def render_lsn(lsn: int) -> str:
    """PostgreSQL's notation: high 32 bits / low 32 bits in hex, ``0/16B3748``."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    """The inverse of :func:`render_lsn`."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def is_snapshot(source: Mapping[str, Any]) -> bool:
    """``snapshot`` is ``true``/``first``/``last``/``incremental``... or ``false``."""
    return source.get("snapshot") not in _NOT_SNAPSHOT


def postgres_position(source: Mapping[str, Any], ordinal: int = 0) -> SourcePosition:
    lsn = _number(source.get("lsn"))
    commit_lsn = _commit_lsn(source.get("sequence"))
    fields = {
        "lsn": render_lsn(lsn),
        "commit_lsn": None if commit_lsn is None else _render_commit_lsn(commit_lsn),
        "txid": source.get("txId"),
    }
    # Positional: keyword arguments double the cost of a frozen dataclass's __init__,
    # and this runs once per event.
    return SourcePosition(
        str(source.get("name") or "postgresql"),
        (commit_lsn or 0, lsn, ordinal),
        is_snapshot(source),
        fields,
    )


@functools.lru_cache(maxsize=256)
def _render_commit_lsn(lsn: int) -> str:
    # Every event of a transaction repeats its commit LSN.
    return render_lsn(lsn)


def mysql_position(source: Mapping[str, Any], ordinal: int = 0) -> SourcePosition:
    binlog_file = str(source.get("file") or "")
    pos = _number(source.get("pos"))
    row = _number(source.get("row"))
    fields = {
        "file": binlog_file,
        "pos": pos,
        "row": row,
        "gtid": source.get("gtid"),
        "server_id": source.get("server_id"),
    }
    return SourcePosition(
        str(source.get("name") or "mysql"),
        (binlog_file_number(binlog_file), pos, row, ordinal),
        is_snapshot(source),
        fields,
    )


@functools.lru_cache(maxsize=64)
def binlog_file_number(name: str) -> int:
    """``binlog.000003`` -> 3; the extension is the file's sequence number."""
    _, dot, suffix = name.rpartition(".")
    if not dot or not suffix.isdigit():
        raise ValueError(f"binlog file {name!r} has no numeric extension")
    return int(suffix)


def _number(value: Any) -> int:
    if value.__class__ is not int:
        raise ValueError(f"expected an integer position, got {value!r}")
    return int(value)


def _commit_lsn(sequence: Any) -> int | None:
    """The first LSN of ``sequence``, a JSON array in a string: ``["123","456"]``."""
    if not sequence:
        return None
    text = str(sequence)
    # Parsed by hand: this runs for every event and the format is fixed.
    if text.startswith('["'):
        first = text[2 : text.find('"', 2)]
    else:
        first = text.strip("[] ").split(",", 1)[0].strip().strip('"')
    if first in ("", "null"):
        return None
    if not first.isdigit():
        raise ValueError(f"sequence {sequence!r} does not start with an LSN")
    return int(first)


class PositionSequencer:
    """Adds the ordinal that tells apart events sharing one native position.

    One sequencer per source stream, fed in delivery order; not thread-safe.
    """

    def __init__(self) -> None:
        self._last: tuple[int, ...] | None = None
        self._ordinal = 0

    def sequence(self, position: SourcePosition) -> SourcePosition:
        """Return ``position`` with its last order element set to the ordinal."""
        native = position.order[:-1]
        if native == self._last:
            self._ordinal += 1
        else:
            if self._last is not None and native < self._last:
                log.warning(
                    "source %s went back from %s to %s; the checkpoint decides "
                    "whether these events are redeliveries",
                    position.source,
                    self._last,
                    native,
                )
            self._last = native
            self._ordinal = 0
        if self._ordinal == position.order[-1]:
            return position
        return SourcePosition(
            position.source,
            (*native, self._ordinal),
            position.snapshot,
            position.fields,
        )

    def reset(self) -> None:
        """Forget the last position, e.g. after the engine restarted."""
        self._last = None
        self._ordinal = 0
