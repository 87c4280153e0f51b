"""A capture process for the crash tests: appends every change it receives to a file.

    python capture_child.py CONNECTOR HOME OUT [BLOCK_AFTER]

Each record's ``op`` and ``id`` go to OUT as one JSON line, written and fsynced before
the handler returns. With BLOCK_AFTER, the handler stops in the middle of the batch
holding that record (after writing it), touches ``OUT.blocked`` and waits to be
killed. SIGTERM stops the capture cleanly (exit 0).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from capture_support import is_heartbeat

from bridge.capture.connectors import load_connector
from bridge.capture.embedded import CaptureSource, EmbeddedCapture, RawRecord


def main(argv: Sequence[str]) -> int:
    connector, home, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    block_after = int(argv[3]) if len(argv) > 3 else 0
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    written = 0

    def handler(records: Sequence[RawRecord]) -> None:
        nonlocal written
        with out.open("a", encoding="utf-8") as sink:
            for record in records:
                if record.value is None or is_heartbeat(record):
                    continue
                value = json.loads(record.value)
                row = value["after"] or value["before"]
                sink.write(json.dumps({"op": value["op"], "id": row["id"]}) + "\n")
                sink.flush()
                os.fsync(sink.fileno())
                written += 1
                if written == block_after:
                    Path(f"{out}.blocked").touch()
                    time.sleep(3600)

    capture = EmbeddedCapture(
        [CaptureSource(load_connector(connector), handler)], home=home
    )
    capture.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
