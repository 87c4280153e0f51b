from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bridge.devenv.home import (
    SECRET_NAMES,
    load_secrets,
    read_env_file,
    repo_root,
    resolve_home,
)


def test_explicit_home_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITBRIDGE_HOME", str(tmp_path / "from-env"))

    assert resolve_home(tmp_path / "given") == tmp_path / "given"
    assert resolve_home() == tmp_path / "from-env"


def test_default_home_is_inside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITBRIDGE_HOME", raising=False)

    assert resolve_home() == repo_root() / ".creditbridge"
    assert (repo_root() / "pyproject.toml").is_file()


def test_secrets_are_private_and_stable(tmp_path: Path) -> None:
    first = load_secrets(tmp_path)
    second = load_secrets(tmp_path)

    mode = stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode)
    assert mode == 0o600
    assert first == second
    assert sorted(first) == sorted(SECRET_NAMES)
    assert len(set(first.values())) == len(SECRET_NAMES)


def test_env_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.env"
    path.write_text("# note\n\nA=1\nB = two=2\n")

    assert read_env_file(path) == {"A": "1", "B": "two=2"}
