"""SIGTERM while ``creditbridge run`` starts its engines: a clean stop, status 0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bridge_process import BridgeProcess, wait_until, write_run_config

from bridge.devenv.api import DevEnv
from bridge.devenv.generator import seed_both

pytestmark = pytest.mark.db

STOP_SECONDS = 30.0


def test_a_sigterm_while_the_engines_start_stops_the_bridge_cleanly(
    bridge: Callable[..., BridgeProcess],
) -> None:
    """Pins: SIGTERM in the seconds the JVM and the engines start ended `run` with
    status 143, before capture had put in its signal handlers."""
    process = bridge()
    wait_until(
        lambda: "bridge starting" in process.output(),
        "the bridge to start its engines",
        STOP_SECONDS,
        process,
    )

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


def test_a_stop_in_the_middle_of_a_large_snapshot_ends_the_process(
    demo: DevEnv, tmp_path: Path
) -> None:
    """Pins: `bridge stopped` logged, then the process hung for ever: JPype destroying
    the JVM at exit waited for Debezium's MySQL snapshot thread, which never ends."""
    seed_both(demo, seed=1, count=100_000)
    config, port = write_run_config(tmp_path, tmp_path / "home")
    process = BridgeProcess(config, port, tmp_path).start()
    try:
        wait_until(
            lambda: "position snapshot necips" in process.output(),
            "a batch of NECIPS snapshot rows (its snapshot under way)",
            STOP_SECONDS,
            process,
        )
        process.terminate()

        assert process.wait_exit(STOP_SECONDS) == 0
    finally:
        if process.exit_code() is None:
            process.kill()
    said = [
        line.split(" INFO ", 1)[-1].split(" (", 1)[0]
        for line in process.output().splitlines()
        if "before its initial snapshot was over" in line
    ]
    assert (
        "bridge.pipeline.runner: pipeline gsxt-to-xyzg stopped before its initial "
        "snapshot was over" in said
    ), process.output()
