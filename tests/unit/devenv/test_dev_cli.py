from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.devenv.model import ServerStatus


def test_errors_are_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITBRIDGE_PG_URL", "mysql+pymysql://u:p@h:1/db")

    result = CliRunner().invoke(app, ["dev", "status", "--home", str(tmp_path)])

    assert result.exit_code == 1
    assert result.output == (
        "error: CREDITBRIDGE_PG_URL points at a 'mysql' server, expected "
        "'postgresql'\n"
    )


def test_seed_count_is_bounded_before_anything_starts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["dev", "seed", "--count", "5", "--home", str(tmp_path)])

    assert result.exit_code == 2
    assert "Input should be greater than or equal to 10" in result.output
    assert not (tmp_path / "postgres").exists()


def test_status_folds_a_long_location_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: `/work/main/.creditbridge/postgres/da…`: the end of the path cut off."""
    location = "/work/main/.creditbridge/postgres/data/[2024]/a-long-folder-name"
    states = [ServerStatus("postgresql", "running", 17083, 56719, location)]
    monkeypatch.setattr("bridge.devenv.api.status", lambda home: states)

    result = CliRunner().invoke(app, ["dev", "status"], env={"COLUMNS": "80"})

    assert result.exit_code == 0
    cells = [line.split("│")[5].strip() for line in result.output.splitlines()[3:-1]]
    assert "".join(cells) == location
    assert max(len(line) for line in result.output.splitlines()) <= 80
