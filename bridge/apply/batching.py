"""Cut the stream of map results on source transaction boundaries.

One applied batch is one target transaction, so a source transaction that lies wholly
inside a batch is never visible half-applied. :class:`TransactionBuffer` holds back
the trailing events of a transaction that may still continue (the next event will
tell) and releases whole transactions only.

Holding events back is only safe where the caller acknowledges what was *applied*:
the Kafka path stores its offsets with the checkpoint (:meth:`Applier.apply_batch`'s
``kafka_offsets``), so held events are consumed again after a crash. A caller that
acknowledges everything it was handed (embedded Debezium) must flush before
acknowledging, and gives up the guarantee for a transaction split across its batches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bridge.map.results import MapResult

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50_000


class TransactionBuffer:
    """Releases map results in whole source transactions."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._pending: list[MapResult] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, results: Sequence[MapResult]) -> list[MapResult]:
        """Take *results*; return those whose transactions are known to be complete."""
        self._pending.extend(results)
        cut = _open_tail_start(self._pending)
        if len(self._pending) - cut > self.limit:
            # A transaction larger than memory allows is applied in parts; it is then
            # briefly visible half-applied, which beats running out of memory.
            log.warning(
                "transaction %s exceeds %s events; applying it in parts",
                self._pending[-1].event.transaction_id,
                self.limit,
            )
            cut = len(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return ready

    def flush(self) -> list[MapResult]:
        """Everything held, for an idle stream or a stop."""
        ready, self._pending = self._pending, []
        return ready


def _open_tail_start(results: Sequence[MapResult]) -> int:
    """Index where the trailing run of the last transaction begins."""
    if not results:
        return 0
    last = results[-1].event.transaction_id
    if last is None:
        return len(results)
    start = len(results)
    while start > 0 and results[start - 1].event.transaction_id == last:
        start -= 1
    return start
