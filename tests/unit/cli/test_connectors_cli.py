"""``creditbridge connectors``: what it prints, as written, whatever the worker said."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bridge.capture.connect import ConnectorStatus, TaskState
from bridge.cli import connectors
from bridge.cli.main import app
from bridge.errors import CaptureError

runner = CliRunner()
TRACE = "org.apache.kafka.connect.errors.ConnectException: heap [mgMG] 沪浦[2024]1号"


class _Worker:
    def __init__(self, url: str) -> None:
        self.url = url

    def status(self, name: str) -> ConnectorStatus:
        task = TaskState(0, "FAILED", "connect:8083", TRACE)
        return ConnectorStatus(name, "RUNNING", "connect:8083", (task,), TRACE)

    def pause(self, name: str) -> None:
        raise CaptureError(f"connector {name} [2024] does not exist; nothing paused")


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connectors, "ConnectClient", _Worker)
    monkeypatch.setattr(
        connectors, "_console", Console(width=200, color_system=None)
    )


def _lines(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines()]


@pytest.mark.usefixtures("worker")
def test_status_prints_the_worker_s_trace_with_its_brackets() -> None:
    """Pins: rich taking `[mgMG]` in a worker's error for a markup tag."""
    result = runner.invoke(app, ["connectors", "status", "x"])

    assert result.exit_code == 1
    rows = [line for line in _lines(result.output) if "ConnectException" in line]
    assert rows == [
        f"│ x │ - │ RUNNING │ connect:8083 │ {TRACE} │",
        f"│ │ 0 │ FAILED │ connect:8083 │ {TRACE} │",
    ]


@pytest.mark.usefixtures("worker")
def test_a_failure_is_printed_as_written() -> None:
    result = runner.invoke(app, ["connectors", "pause", "x"])

    assert result.exit_code == 1
    assert _lines(result.output) == [
        "FAILED: connector x [2024] does not exist; nothing paused"
    ]


def test_the_worker_option_is_connect_url() -> None:
    """Pins: README's `--url http://...`, which `connectors apply` does not take."""
    seen: list[Any] = []

    class _Seen(_Worker):
        def __init__(self, url: str) -> None:
            seen.append(url)
            raise CaptureError("stop here")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connectors, "ConnectClient", _Seen)
        result = runner.invoke(
            app, ["connectors", "status", "x", "--connect-url", "http://c:8083"]
        )

    assert seen == ["http://c:8083"]
    assert result.exit_code == 1
