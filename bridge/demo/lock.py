"""One lock for everything that uses the demo pipelines, their slot and tables.

The demo and the end-to-end tests both reset and drive the demo pipelines
(``xyzg-to-gsxt`` and ``gsxt-to-xyzg``). Two of them at once would reset each
other's tables mid-run, so both take this lock first.

A holder that starts a child which takes the lock itself (a test running
``creditbridge demo`` as a subprocess) sets :data:`HELD_ENV` to ``1`` in the child's
environment: the child then trusts its parent's lock instead of waiting for it
forever.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bridge.devenv.home import prepare_home, resolve_home

LOCK_NAME = "demo.lock"
HELD_ENV = "CREDITBRIDGE_DEMO_LOCK_HELD"


@contextlib.contextmanager
def demo_lock(home: Path | None = None) -> Iterator[None]:
    """Hold ``<home>/demo.lock`` exclusively; blocks until the holder releases it."""
    if os.environ.get(HELD_ENV) == "1":
        yield
        return
    resolved = resolve_home(home)
    prepare_home(resolved)
    with (resolved / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
