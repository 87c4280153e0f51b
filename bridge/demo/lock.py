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
from collections.abc import Callable, Iterator
from pathlib import Path

from bridge.devenv.home import prepare_home, resolve_home

LOCK_NAME = "demo.lock"
HELD_ENV = "CREDITBRIDGE_DEMO_LOCK_HELD"


@contextlib.contextmanager
def demo_lock(
    home: Path | None = None, *, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold ``<home>/demo.lock`` exclusively; blocks until the holder releases it.

    *on_wait* is called once, before blocking, when someone else holds the lock.
    """
    if os.environ.get(HELD_ENV) == "1":
        yield
        return
    resolved = resolve_home(home)
    prepare_home(resolved)
    with (resolved / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
