"""``creditbridge run --log-level``: a level by name, in any case, or a usage error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bridge.cli.main import app


def _levels_configured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    levels: list[str] = []
    monkeypatch.setattr(
        "bridge.observe.logging.configure_logging",
        lambda level, json: levels.append(level),
    )
    return levels


def test_an_unknown_level_is_a_usage_error_naming_the_levels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: `ValueError: Unknown level: 'LOUD'` traceback from `run --log-level`."""
    levels = _levels_configured(monkeypatch)

    result = CliRunner().invoke(
        app, ["run", "--log-level", "LOUD"], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 2
    [error] = [line for line in result.output.splitlines() if "--log-level" in line]
    assert " ".join(error.strip("│ ").split()) == (
        "Invalid value for '--log-level': 'LOUD' is not one of DEBUG, INFO, WARNING, "
        "ERROR; nothing was started"
    )
    assert levels == []


def test_a_level_in_lower_case_is_taken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    levels = _levels_configured(monkeypatch)

    result = CliRunner().invoke(
        app, ["run", "--log-level", "debug", "--config", f"{tmp_path}/absent.yaml"]
    )

    assert result.exit_code == 1  # the configuration is missing: nothing starts
    assert levels == ["DEBUG"]
