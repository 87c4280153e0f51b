"""Whether a stopped engine left its initial snapshot to be taken again."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.capture.connectors import ConnectorFile, offsets_file
from bridge.pipeline.runner import _snapshot_unfinished

# Kafka's FileOffsetBackingStore writes a serialized Java map; the key and value are
# JSON stored as plain bytes inside it.
KEY = b'["necips-outcomes",{"server":"necips"}]'
# As Debezium 3.6 stored them: MySQL streaming, and mid-snapshot on each side.
STREAMING = b'{"file":"binlog.000001","pos":1015452737,"gtids":"x:1-3018"}'
SNAPSHOTTING = b'{"ts_sec":1796425289,"file":"binlog.000001","snapshot":"INITIAL"}'
PG_SNAPSHOTTING = (
    b'{"last_snapshot_record":false,"lsn":1156123528,"txId":5000,'
    b'"snapshot":"INITIAL","snapshot_completed":false}'
)
PG_SNAPSHOT_DONE = b'{"lsn":1156123528,"snapshot":"INITIAL","snapshot_completed":true}'


def _connector(mode: str | None = None) -> ConnectorFile:
    config = {"snapshot.mode": mode} if mode else {}
    return ConnectorFile("necips-outcomes", config, Path("necips-outcomes.json"))


def _store(home: Path, value: bytes) -> None:
    path = offsets_file(home, "necips-outcomes")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xac\xed\x00\x05sr\x00" + KEY + b"\x00" + value)


@pytest.mark.parametrize(
    ("stored", "mode", "unfinished"),
    [
        (None, None, True),  # stopped before Debezium stored anything
        (SNAPSHOTTING, None, True),
        (STREAMING, None, False),
        (None, "no_data", False),  # no snapshot of rows to take
        (SNAPSHOTTING, "initial", True),
        (PG_SNAPSHOTTING, None, True),
        (PG_SNAPSHOT_DONE, None, False),
    ],
)
def test_the_stored_offsets_say_whether_the_snapshot_is_still_to_take(
    tmp_path: Path, stored: bytes | None, mode: str | None, unfinished: bool
) -> None:
    if stored is not None:
        _store(tmp_path, stored)

    assert _snapshot_unfinished(tmp_path, _connector(mode)) is unfinished
