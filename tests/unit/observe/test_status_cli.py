"""``creditbridge status`` when neither the bridge nor the demo databases run."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.errors import DevEnvError


def _not_running(home: Any = None) -> Any:
    raise DevEnvError(
        "the local demo databases are not running (state in /x); start them with "
        "`creditbridge dev up`"
    )


def _started(home: Any = None) -> Any:
    raise AssertionError("status started the demo databases")


def test_status_does_not_start_the_demo_databases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: plain `creditbridge status` after `dev down` starting both servers."""
    monkeypatch.setattr("bridge.devenv.api.running", _not_running)
    monkeypatch.setattr("bridge.devenv.api.ensure_up", _started)

    result = CliRunner().invoke(app, ["status", "--url", "http://127.0.0.1:1"])

    assert result.exit_code == 1
    assert result.output == (
        "FAILED: no bridge answers at http://127.0.0.1:1, and the local demo "
        "databases are not running (state in /x); start them with "
        "`creditbridge dev up`\n"
    )
