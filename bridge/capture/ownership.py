"""One process at a time per connector and state directory.

Two bridges capturing the same connector from the same state directory fight over its
replication slot (PostgreSQL refuses the second) or its MySQL server id (the source
disconnects the first), and both write the same offsets file. The first to start
holds an advisory lock on ``<home>/locks/<connector>.lock``; a second is refused
before it starts anything. The operating system drops the lock when the holder
exits, SIGKILL included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO

from bridge.errors import CaptureError


class ConnectorClaim:
    """The lock of one connector in one state directory, held until :meth:`release`."""

    def __init__(self, home: Path, connector: str) -> None:
        self.path = home / "locks" / f"{connector}.lock"
        self.connector = connector
        self._file: TextIO | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise CaptureError(
                f"connector {self.connector} is already captured by another "
                f"creditbridge process (pid {holder}) with state in "
                f"{self.path.parent.parent}; stop that process first, or give this "
                "run its own home and connector name; nothing was started"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
