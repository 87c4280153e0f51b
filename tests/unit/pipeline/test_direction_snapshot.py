"""Direction counts the initial snapshot's rows, for ``creditbridge run``'s progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from bridge.apply.applier import ApplyReport
from bridge.apply.pending import HeldBatch, Remap
from bridge.decode import DecodeSettings, RecordDecoder
from bridge.decode.markers import TransactionMarker
from bridge.map.results import MapResult
from bridge.pipeline.direction import Direction

CONFIG = {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "topic.prefix": "cc",
    "decimal.handling.mode": "string",
    "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false",
}


class Record(NamedTuple):
    key: str | None
    value: str | None
    topic: str


def row(n: int, table: str, *, snapshot: bool) -> Record:
    value = {
        "before": None,
        "after": {"id": n},
        "source": {
            "name": "cc",
            "schema": "s",
            "table": table,
            "txId": 700 + n,
            "lsn": 100 + n,
            "sequence": f'["{99 + n}","{100 + n}"]',
            "snapshot": "true" if snapshot else "false",
        },
        "op": "r" if snapshot else "c",
    }
    return Record(json.dumps({"id": n}), json.dumps(value), f"cc.s.{table}")


class ApplyAll:
    """The transaction hold, applying every result at once."""

    def apply_batch(
        self,
        pipeline: str,
        results: Sequence[MapResult],
        markers: Sequence[TransactionMarker],
        remap: Remap,
    ) -> HeldBatch:
        return HeldBatch(ApplyReport(applied=len(results)), list(results))


class NoApplier:
    def apply_batch(self, *args: Any, **kwargs: Any) -> ApplyReport:
        raise AssertionError("the plain applier must not be used")

    def apply_in(self, *args: Any, **kwargs: Any) -> ApplyReport:
        raise AssertionError("the plain applier must not be used")


def _direction() -> Direction:
    settings = DecodeSettings.from_connector_config("cc.json", CONFIG)
    return Direction(
        "p",
        RecordDecoder(settings),
        [],
        NoApplier(),
        source="postgres",
        heartbeat_table="s.heartbeat",
        transactions=ApplyAll(),
    )


def test_snapshot_rows_count_reads_of_data_tables_only() -> None:
    """Pins: heartbeat rows, streamed changes or undecodable records counted as
    snapshot progress."""
    direction = _direction()
    undecodable = Record('{"id": 9}', "{not json", "cc.s.t")

    direction.apply([row(1, "t", snapshot=True), row(2, "heartbeat", snapshot=True)])
    direction.apply([row(3, "t", snapshot=True), undecodable])
    during = (direction.totals.snapshot_rows, direction.totals.streamed)
    direction.apply([row(4, "t", snapshot=False)])

    assert during == (2, False)
    assert (direction.totals.snapshot_rows, direction.totals.streamed) == (2, True)
    assert direction.totals.events == 5


def test_a_streamed_heartbeat_ends_the_snapshot() -> None:
    """Pins: an idle source (heartbeats only) shown as snapshotting for ever."""
    direction = _direction()

    direction.apply([row(1, "heartbeat", snapshot=False)])

    assert (direction.totals.snapshot_rows, direction.totals.streamed) == (0, True)
