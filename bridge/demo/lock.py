"""One lock for everything that uses the demo pipelines, their slot and tables.

The demo and the end-to-end tests both reset and drive the demo pipelines
(``xyzg_to_gsxt`` and ``gsxt_to_xyzg``). Two of them at once would reset each
other's tables mid-run, so both take this lock first.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from bridge.devenv.home import prepare_home, resolve_home

LOCK_NAME = "demo.lock"


@contextlib.contextmanager
def demo_lock(home: Path | None = None) -> Iterator[None]:
    """Hold ``<home>/demo.lock`` exclusively; blocks until the holder releases it."""
    resolved = resolve_home(home)
    prepare_home(resolved)
    with (resolved / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
