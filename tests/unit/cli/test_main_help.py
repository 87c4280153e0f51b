"""``--help`` of every command, as people read it."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from bridge.cli.main import app


def _command_paths(command: object, path: tuple[str, ...] = ()) -> list[list[str]]:
    paths = [list(path)]
    for name, subcommand in getattr(command, "commands", {}).items():
        paths.extend(_command_paths(subcommand, (*path, name)))
    return paths


COMMANDS = _command_paths(get_command(app))


def _one_line(line: str) -> str:
    return " ".join(line.strip("│ ").split())


def test_every_command_is_covered() -> None:
    assert ["dlq", "replay"] in COMMANDS
    assert ["check"] in COMMANDS
    assert [] in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "root")
def test_help_shows_flags_without_a_value_type(path: list[str]) -> None:
    """Pins: `--help <bool>` (and `--json <bool>`) as if the flags took a value."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    [help_line] = [
        line
        for line in map(_one_line, result.output.splitlines())
        if line.startswith("--help ")
    ]
    assert help_line == "--help Show this message and exit."
    assert "<bool>" not in result.output


def test_a_flag_keeps_its_help_and_an_option_its_type() -> None:
    result = CliRunner().invoke(app, ["status", "--help"], env={"COLUMNS": "120"})

    lines = [_one_line(line) for line in result.output.splitlines()]
    assert "--json Print JSON instead of tables." in lines
    assert (
        "--url <str> Where the running bridge listens. [default: http://127.0.0.1:9187]"
        in lines
    )
