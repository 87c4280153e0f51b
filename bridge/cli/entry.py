"""The ``creditbridge`` console script: SIGTERM and Ctrl-C are ours from the start.

Loading the commands takes a few tenths of a second (SQLAlchemy, the drivers, JPype).
A signal in that time would otherwise end the process with status 143 and no word,
or with a ``KeyboardInterrupt`` traceback. Commands that run for long (``run``,
``demo``) put handlers of their own in once loaded.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from bridge.errors import StoppedWhileStarting

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def main() -> None:
    previous = {signum: signal.signal(signum, _stop) for signum in _SIGNALS}
    try:
        from bridge.cli.main import app
    except StoppedWhileStarting as stopped:
        print(
            f"stopped by {stopped.signal_name} while loading; nothing was done",
            file=sys.stderr,
        )
        raise SystemExit(0) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    app()


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise StoppedWhileStarting(signum)


if __name__ == "__main__":  # pragma: no cover
    main()
