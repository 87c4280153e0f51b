"""A stop asked for while the engines are still starting ends them all, promptly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from capture_support import Collector, MysqlSource, PgSource

from bridge.capture.embedded import CaptureSource, EmbeddedCapture, EngineState

pytestmark = [pytest.mark.db, pytest.mark.capture]

COLUMNS = "id int PRIMARY KEY, v varchar(20), amount decimal(24,6)"
STOP_SECONDS = 30.0


@pytest.mark.parametrize("delay", [n / 10 for n in range(12)])
def test_a_stop_during_start_up_ends_every_engine(
    pg_source: Callable[..., PgSource],
    mysql_source: Callable[..., MysqlSource],
    home: Path,
    environ: dict[str, str],
    delay: float,
) -> None:
    """Pins: an engine closed before it ran kept streaming, and stop() never
    returned (SIGTERM about a second after start hung `creditbridge run`)."""
    sources = [pg_source(COLUMNS).connector, mysql_source(COLUMNS).connector]
    capture = EmbeddedCapture(
        [CaptureSource(connector, Collector()) for connector in sources],
        home=home,
        environ=environ,
    )
    capture.start()
    time.sleep(delay)
    stopping = threading.Thread(target=capture.stop, daemon=True)

    stopping.start()
    stopping.join(STOP_SECONDS)

    assert not stopping.is_alive(), f"stop() still waiting after {STOP_SECONDS} s"
    assert set(capture.states.values()) <= {EngineState.STOPPED, EngineState.FAILED}
    assert capture.wait(timeout=0) is True
