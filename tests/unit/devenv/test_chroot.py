from __future__ import annotations

from pathlib import Path

import pytest

from bridge.devenv import chroot, procs
from bridge.errors import DevEnvError

DEB822 = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates

Types: deb
URIs: http://deb.debian.org/debian-security
"""


def test_mirror_from_deb822_sources() -> None:
    assert chroot._mirror_in(DEB822) == "http://deb.debian.org/debian"


def test_mirror_from_one_line_sources_skips_security() -> None:
    text = ("deb http://security.debian.org/debian-security bookworm-security main\n"
            "deb [arch=amd64] http://mirrors.example.cn/debian/ bookworm main\n")

    assert chroot._mirror_in(text) == "http://mirrors.example.cn/debian"


def test_mirror_can_be_set_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITBRIDGE_DEBIAN_MIRROR", "http://m.example/debian")

    assert chroot.host_mirror() == "http://m.example/debian"


def test_missing_debootstrap_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(chroot, "SYSTEM_DIRS", ())
    monkeypatch.setattr(procs, "is_root", lambda: True)

    with pytest.raises(DevEnvError) as caught:
        chroot._check_build_prerequisites()

    assert str(caught.value) == (
        "debootstrap not found: run scripts/setup or apt-get install debootstrap"
    )


def test_building_without_root_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procs, "is_root", lambda: False)

    with pytest.raises(DevEnvError) as caught:
        chroot._check_build_prerequisites()

    assert str(caught.value) == (
        "building the MySQL chroot needs root (debootstrap and chroot); run as root "
        "once, put an Oracle mysqld on PATH, or set CREDITBRIDGE_MYSQL_URL"
    )
