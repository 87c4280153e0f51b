"""SIGTERM while ``creditbridge run`` starts its engines: a clean stop, status 0."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from bridge_process import BridgeProcess

pytestmark = pytest.mark.db

STOP_SECONDS = 30.0


def test_a_sigterm_while_the_engines_start_stops_the_bridge_cleanly(
    bridge: Callable[..., BridgeProcess],
) -> None:
    """Pins: SIGTERM in the seconds the JVM and the engines start ended `run` with
    status 143, before capture had put in its signal handlers."""
    process = bridge()
    deadline = time.monotonic() + STOP_SECONDS
    while "bridge starting" not in process.output():
        assert process.exit_code() is None, process.output()
        assert time.monotonic() < deadline, process.output()
        time.sleep(0.01)

    process.terminate()

    assert process.wait_exit(STOP_SECONDS) == 0, process.output()
    lines = process.output().splitlines()
    # Before capture streams the run command's handler takes the signal; after,
    # capture's own.
    said = [line.split(" INFO ", 1)[-1] for line in lines if "received SIG" in line]
    assert said in (
        ["bridge.cli.run: received SIGTERM, stopping"],
        ["bridge.capture.embedded: received SIGTERM, stopping capture"],
    ), process.output()
    assert lines[-1].endswith(" INFO bridge.pipeline.runner: bridge stopped")
    # Debezium's "Engine has failed" when closed mid-start is kept out of sight.
    assert [line for line in lines if "ERROR" in line] == []
