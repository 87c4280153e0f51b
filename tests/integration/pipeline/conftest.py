"""The demo pipelines end to end: a reset demo, admin engines and a bridge child.

Every test holds the demo lock for its whole run (the ``creditbridge demo`` command
uses the same tables, slot and offsets) and starts from a reset demo: empty tables, no
checkpoints, dead letters, connector offsets or replication slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from bridge_process import BridgeProcess, write_run_config

from bridge.demo.lock import demo_lock
from bridge.demo.reset import reset_demo
from bridge.devenv.api import DevEnv


@pytest.fixture
def demo(dev_env: DevEnv) -> Iterator[DevEnv]:
    """The demo systems, reset, locked against ``creditbridge demo`` meanwhile."""
    with demo_lock(dev_env.home):
        reset_demo(dev_env, dev_env.home)
        yield dev_env
        reset_demo(dev_env, dev_env.home)


@pytest.fixture
def pg(demo: DevEnv) -> Iterator[sa.Engine]:
    """Credit China as its admin: writes native rows, reads every table."""
    engine = sa.create_engine(demo.postgres.url("admin"), poolclass=sa.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def mysql(demo: DevEnv) -> Iterator[sa.Engine]:
    """NECIPS as its admin: writes native rows, reads every table."""
    engine = sa.create_engine(demo.mysql.url("admin"), poolclass=sa.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def bridge(demo: DevEnv, tmp_path: Path) -> Iterator[Callable[..., BridgeProcess]]:
    """``bridge(**run_config_changes)`` starts a ``creditbridge run --dev`` child.

    Children still running at the end are stopped before the demo is reset.
    """
    started: list[BridgeProcess] = []

    def start(**changes: object) -> BridgeProcess:
        config, port = write_run_config(tmp_path, demo.home, **changes)  # type: ignore[arg-type]
        process = BridgeProcess(config, port, tmp_path).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
