"""The console script takes SIGTERM and Ctrl-C before the commands have loaded."""

from __future__ import annotations

import os
import signal
import sys
import time
import types

import pytest

from bridge.cli import entry


class _Loading(types.ModuleType):
    """``bridge.cli.main`` as it loads: a SIGTERM arrives before ``app`` exists."""

    def __getattr__(self, name: str) -> object:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises into this wait
        raise AssertionError("loading went on after SIGTERM")


def test_a_sigterm_while_the_commands_load_ends_quietly_with_status_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pins: SIGTERM in the first few tenths of a second ended `creditbridge run`
    with status 143 and no word, Ctrl-C with a KeyboardInterrupt traceback."""
    monkeypatch.setitem(sys.modules, "bridge.cli.main", _Loading("bridge.cli.main"))

    with pytest.raises(SystemExit) as exited:
        entry.main()

    assert exited.value.code == 0
    assert capsys.readouterr().err == (
        "stopped by SIGTERM while loading; nothing was done\n"
    )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
