"""EmbeddedCapture checks that need no JVM."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.capture.connectors import ConnectorFile
from bridge.capture.embedded import (
    CaptureSource,
    EmbeddedCapture,
    EngineState,
    _HandlerBridge,
    _SourceEngine,
)
from bridge.capture.jvm import JvmOptions
from bridge.errors import CaptureError


def test_two_sources_with_one_name_are_refused(tmp_path: Path) -> None:
    connector = ConnectorFile("same", {}, tmp_path / "same.json")
    sources = [CaptureSource(connector, print), CaptureSource(connector, print)]

    with pytest.raises(CaptureError) as raised:
        EmbeddedCapture(sources, home=tmp_path)

    assert str(raised.value) == (
        "connector name 'same' is given twice; each source needs its own name and "
        "offsets; nothing was started"
    )


class Committer:
    """Debezium's RecordCommitter at the consumer seam, recorded."""

    def __init__(self) -> None:
        self.marked: list[str] = []
        self.batches = 0

    def markProcessed(self, record: str) -> None:  # noqa: N802 - the Java name
        self.marked.append(record)

    def markBatchFinished(self) -> None:  # noqa: N802 - the Java name
        self.batches += 1


def test_records_held_back_are_acknowledged_once_released() -> None:
    bridge = _HandlerBridge("c", print)
    committer = Committer()
    steps = [(["r1", "r2", "r3"], 2), (["r4"], 3), (["r5", "r6"], 1), (["r7"], 0)]

    marked = []
    for records, held in steps:
        before = len(committer.marked)
        bridge._acknowledge(records, held, committer)
        marked.append(committer.marked[before:])

    # Of the records held back only the newest is kept and marked: Debezium keeps
    # the last offset marked per partition, so r4 stands for r2, r3 and r4.
    assert marked == [["r1"], [], ["r4", "r5"], ["r6", "r7"]]
    assert committer.batches == 4


def test_a_handler_holding_back_more_than_it_got_is_refused() -> None:
    bridge = _HandlerBridge("c", print)

    with pytest.raises(CaptureError) as raised:
        bridge._acknowledge(["r1"], 2, Committer())

    assert str(raised.value) == (
        "capture c: the handler holds back 2 records but only 1 are unacknowledged; "
        "the batch is not acknowledged"
    )


def test_offsets_the_source_no_longer_holds_say_how_to_take_a_new_snapshot() -> None:
    """Pins: Debezium's "Reconfigure the connector to use a snapshot mode when
    needed" as the only advice, after another state directory used the slot."""
    connector = ConnectorFile("necips-outcomes", {}, Path("/etc/cb/necips.json"))
    offsets = {"offset.storage.file.filename": "/var/lib/cb/offsets/necips.dat"}
    engine = _SourceEngine(
        connector, offsets, _HandlerBridge("necips-outcomes", print), JvmOptions()
    )
    engine.state = EngineState.FAILED
    engine.reason = [
        "Error while trying to run connector class",
        "The connector is trying to read change stream starting at {file=binlog.00"
        "0001, pos=4}, but this is no longer available on the server. Reconfigure "
        "the connector to use a snapshot mode when needed.",
    ]

    assert str(engine.failure()) == (
        "capture necips-outcomes (/etc/cb/necips.json) failed: The connector is "
        "trying to read change stream starting at {file=binlog.000001, pos=4}, but "
        "this is no longer available on the server. Reconfigure the connector to use "
        "a snapshot mode when needed; capture stopped. The source no longer holds the "
        "position the stored offsets (/var/lib/cb/offsets/necips.dat) name: on "
        "PostgreSQL the replication slot moved past it (another bridge or state "
        "directory used the slot), on MySQL the binlog holding it was purged. The "
        "changes in between cannot be read again: move that offsets file aside and "
        "start with --snapshot-again to take a new snapshot, or set "
        '"snapshot.mode": "when_needed" in /etc/cb/necips.json to let Debezium take '
        "one whenever this happens"
    )
