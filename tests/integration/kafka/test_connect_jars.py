"""jetty-security 12 comes from Debian when the machine has none (fresh machines)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bridge.devenv import connect

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_jetty_security_is_extracted_from_debians_jetty12_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins the fresh-machine path: no Google Cloud SDK, no Maven Central."""
    monkeypatch.delenv(connect.JETTY_JAR_ENV, raising=False)
    monkeypatch.setattr(connect, "_search_machine", lambda: None)

    jar = connect.jetty_security_jar(tmp_path)

    assert jar.parent == tmp_path / "connect" / "jars"
    assert jar.name.startswith("jetty12-security-12.")
    with zipfile.ZipFile(jar) as archive:
        assert "org/eclipse/jetty/security/SecurityHandler.class" in archive.namelist()
    assert not (tmp_path / "connect" / "jars" / "apt").exists()
    assert connect.jetty_security_jar(tmp_path) == jar
