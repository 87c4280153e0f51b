"""A second bridge with a state directory of its own, on a slot already read."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from bridge_process import BridgeProcess, write_run_config

from bridge.devenv.api import DevEnv, environment
from bridge.pipeline.config import load_run_config
from bridge.pipeline.runner import prepare

pytestmark = [pytest.mark.db, pytest.mark.capture]


def test_a_slot_already_read_is_named_before_a_second_bridge_starts(
    demo: DevEnv,
    bridge: Callable[..., BridgeProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pins: a second bridge (another home) silently taking turns at the slot."""
    first = bridge(pipelines=("xyzg-to-gsxt",))
    first.wait_ready()
    for name, value in environment(demo).items():
        monkeypatch.setenv(name, value)
    second = tmp_path / "second"
    second.mkdir()
    config, _ = write_run_config(second, second / "home", pipelines=("xyzg-to-gsxt",))

    with caplog.at_level(logging.WARNING, logger="bridge.pipeline.runner"):
        prepared = prepare(load_run_config(config), snapshot_again=True)
    for pipeline in prepared.pipelines:
        pipeline.target.dispose()

    busy = [m for m in caplog.messages if "replication slot" in m]
    assert busy == [
        "pipeline xyzg-to-gsxt: replication slot creditbridge_credit_china is being "
        "read already: by another bridge (one with another home: a second one with "
        "the same home is refused), by Kafka Connect, or by a bridge killed less than "
        "wal_sender_timeout ago; capture waits until the slot is free, and two live "
        "readers would take turns at it, so stop the other one"
    ]
