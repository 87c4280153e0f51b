"""Direction on the embedded path with transaction metadata: boundary records are
markers, never dead letters, and batches go to the transaction-holding applier."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from bridge.apply.applier import ApplyReport
from bridge.apply.pending import HeldBatch, Remap
from bridge.decode import DecodeSettings, RecordDecoder
from bridge.decode.markers import TransactionMarker
from bridge.map.results import Filtered, MapResult, Rejection
from bridge.pipeline.direction import Direction

CONFIG = {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "topic.prefix": "cc",
    "decimal.handling.mode": "string",
    "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false",
    "provide.transaction.metadata": "true",
}


class Record(NamedTuple):
    key: str | None
    value: str | None
    topic: str


def change(n: int, txid: int, lsn: int, order: int | None) -> Record:
    block = None if order is None else {"id": f"{txid}:{lsn}", "total_order": order}
    value = {
        "before": None,
        "after": {"id": n},
        "source": {
            "name": "cc",
            "schema": "s",
            "table": "t",
            "txId": txid,
            "lsn": lsn,
            "sequence": f'["{lsn - 1}","{lsn}"]',
            "snapshot": "false" if order is not None else "true",
        },
        "transaction": block,
        "op": "c" if order is not None else "r",
    }
    return Record(json.dumps({"id": n}), json.dumps(value), "cc.s.t")


def boundary(status: str, txid: int, lsn: int, count: int | None = None) -> Record:
    value = {"status": status, "id": f"{txid}:{lsn}", "event_count": count}
    return Record(
        json.dumps({"id": f"{txid}:{lsn}"}), json.dumps(value), "cc.transaction"
    )


class FakeHold:
    def __init__(self) -> None:
        self.calls: list[tuple[list[MapResult], list[TransactionMarker]]] = []
        self.remap: Remap | None = None

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch:
        self.calls.append((list(results), list(markers)))
        self.remap = remap
        return HeldBatch(ApplyReport(applied=1), list(results[:1]))


class NoApplier:
    def apply_batch(self, *args: Any, **kwargs: Any) -> ApplyReport:
        raise AssertionError("the plain applier must not be used")

    def apply_in(self, *args: Any, **kwargs: Any) -> ApplyReport:
        raise AssertionError("the plain applier must not be used")


def direction(hold: FakeHold) -> Direction:
    settings = DecodeSettings.from_connector_config("cc.json", CONFIG)
    return Direction(
        "p",
        RecordDecoder(settings),
        [],
        NoApplier(),
        source="postgres",
        heartbeat_table="s.t",
        transaction_topic="cc.transaction",
        transactions=hold,
    )


def test_boundaries_become_markers_and_events_carry_their_transaction() -> None:
    hold = FakeHold()
    records = [
        change(1, 700, 99, None),
        boundary("BEGIN", 701, 100),
        change(2, 701, 100, 1),
        change(3, 701, 101, 2),
        boundary("END", 701, 102, 2),
        boundary("BEGIN", 702, 103),
        change(4, 702, 103, 1),
    ]

    report = direction(hold).apply(records)

    ((results, markers),) = hold.calls
    assert [(r.event.key["id"], r.event.transaction_id) for r in results] == [
        (1, "700"),
        (2, "701"),
        (3, "701"),
        (4, "702"),
    ]
    assert [r.event.transaction_order for r in results] == [None, 1, 2, 1]
    assert all(isinstance(r, Filtered) for r in results)
    assert markers == [
        TransactionMarker("BEGIN", "701"),
        TransactionMarker("END", "701", 2),
        TransactionMarker("BEGIN", "702"),
    ]
    assert report.applied == 1


def test_a_broken_boundary_record_is_a_dead_letter_not_a_marker() -> None:
    hold = FakeHold()
    broken = Record(None, '{"status":"COMMIT","id":"5:1"}', "cc.transaction")

    direction(hold).apply([broken])

    ((results, markers),) = hold.calls
    assert markers == []
    assert isinstance(results[0], Rejection)
    assert results[0].reason == (
        "cannot decode a record (topic cc.transaction) at an unknown position: "
        "transaction boundary with status 'COMMIT' and id '5:1'. The record goes to "
        "the dead-letter table."
    )


def test_released_events_are_routed_like_fresh_ones() -> None:
    hold = FakeHold()
    pipeline = direction(hold)
    pipeline.apply([change(2, 701, 100, 1)])
    event = hold.calls[0][0][0].event

    assert hold.remap is not None
    released = hold.remap(event)
    assert (type(released), released.event) == (Filtered, event)


class OpenHold(FakeHold):
    """Reports the transaction named in ``open`` as still open after each batch."""

    def __init__(self, *still_open: str | None) -> None:
        super().__init__()
        self.still_open = list(still_open)

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch:
        batch = super().apply_batch(pipeline, results, markers, remap)
        batch.open_transaction = self.still_open.pop(0)
        return batch


def test_the_handler_holds_back_the_records_from_the_open_transaction_on() -> None:
    hold = OpenHold("702", None)  # the tombstone-only batch skips the hold
    pipeline = direction(hold)

    first = pipeline(
        [
            change(1, 701, 100, 1),
            boundary("END", 701, 100, 1),
            boundary("BEGIN", 702, 200),
            change(2, 702, 200, 1),
        ]
    )
    second = pipeline([Record(json.dumps({"id": 2}), None, "cc.s.t")])
    third = pipeline([change(3, 702, 200, 2), boundary("END", 702, 200, 2)])

    # The BEGIN and the event of 702 wait, then a tombstone behind them, then all
    # of it is released with the END.
    assert (first, second, third) == (2, 3, 0)
