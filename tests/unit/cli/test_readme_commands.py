"""The README's ``creditbridge`` command lines name commands and options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from bridge.cli.main import app

README = Path(__file__).resolve().parents[3] / "README.md"
_BLOCK = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _command_lines() -> list[str]:
    lines = []
    for block in _BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            words = line.split("#")[0].strip().removeprefix(".venv/bin/")
            if words.startswith("creditbridge "):
                lines.append(words)
    return lines


def _unknown_options(line: str) -> list[str]:
    """The options of *line* its command does not take, or the unknown command."""
    command: Any = typer.main.get_command(app)
    words = shlex.split(line.replace("$(", "").replace(")", ""))[1:]
    while words and words[0] in getattr(command, "commands", {}):
        command = command.commands[words.pop(0)]
    if hasattr(command, "commands"):
        return [f"no command {words[:1]}"]
    known = {name for param in command.params for name in param.opts}
    given = [word.split("=")[0] for word in words if word.startswith("--")]
    return [option for option in given if option not in known]


def test_the_readme_shows_command_lines() -> None:
    assert "creditbridge connectors status --connect-url http://connect:8083" in (
        _command_lines()
    )


@pytest.mark.parametrize("line", _command_lines())
def test_every_readme_command_line_uses_options_the_command_takes(line: str) -> None:
    """Pins: `connectors apply ... --url http://...` failing with No such option."""
    assert _unknown_options(line) == []


def test_an_unknown_option_is_found() -> None:
    assert _unknown_options("creditbridge connectors apply x.json --url http://c") == [
        "--url"
    ]
