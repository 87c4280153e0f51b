"""``creditbridge dev --help`` as people read it."""

from __future__ import annotations

from typer.testing import CliRunner

from bridge.cli.main import app


def test_dev_help_shows_the_env_command_without_markup() -> None:
    """Pins: raw ``export NAME=url`` reST markup in the command list."""
    result = CliRunner().invoke(app, ["dev", "--help"], env={"COLUMNS": "120"})

    assert result.exit_code == 0
    [line] = [line for line in result.output.splitlines() if " env " in line]
    assert line.strip("│ ") == (
        "env     Print export NAME=URL lines for every server and role (starts them)."
    )
    assert "``" not in result.output
