"""EmbeddedCapture checks that need no JVM."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.capture.connectors import ConnectorFile
from bridge.capture.embedded import CaptureSource, EmbeddedCapture, _HandlerBridge
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
