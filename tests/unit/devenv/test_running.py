"""``running``: the dev databases' URLs for read-only commands, never a start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.devenv.api import running
from bridge.errors import DevEnvError


def test_running_on_a_home_without_servers_says_how_to_start_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins: read-only commands starting the servers through ensure_up."""
    monkeypatch.delenv("CREDITBRIDGE_PG_URL", raising=False)
    monkeypatch.delenv("CREDITBRIDGE_MYSQL_URL", raising=False)
    home = tmp_path / "home"

    with pytest.raises(DevEnvError) as raised:
        running(home)

    assert str(raised.value) == (
        f"the local demo databases are not running (state in {home}); start them "
        "with `creditbridge dev up`"
    )
    assert list(tmp_path.iterdir()) == []  # nothing initialised or written
