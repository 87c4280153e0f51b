from __future__ import annotations

from pathlib import Path

import pytest

from bridge.devenv import api
from bridge.devenv.model import ServerStatus
from bridge.errors import DevEnvError

URL_NAMES = [api.env_name(kind, role) for kind in ("postgresql", "mysql")
             for role in ("admin", "capture", "writer")]


@pytest.fixture(autouse=True)
def _no_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in URL_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_environment_variable_names() -> None:
    assert URL_NAMES == [
        "CREDITBRIDGE_PG_URL", "CREDITBRIDGE_PG_CAPTURE_URL",
        "CREDITBRIDGE_PG_WRITER_URL", "CREDITBRIDGE_MYSQL_URL",
        "CREDITBRIDGE_MYSQL_CAPTURE_URL", "CREDITBRIDGE_MYSQL_WRITER_URL",
    ]


def test_status_of_a_fresh_home_starts_nothing(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "postgres/data")

    assert api.status(tmp_path) == [
        ServerStatus("postgresql", "absent", None, None, data_dir),
        ServerStatus("mysql", "absent", None, None, str(tmp_path / "mysql")),
    ]


def test_external_server_is_reported_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITBRIDGE_PG_URL",
                       "postgresql+psycopg://boss:s3cret@db.example:5433/registry")

    reported = api.status(tmp_path)[0]

    assert reported == ServerStatus(
        "postgresql", "external", None, 5433,
        "postgresql+psycopg://boss:***@db.example:5433/registry")


def test_url_of_the_local_server_still_counts_as_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins: sourcing `dev env` output turning the local servers into external ones."""
    (tmp_path / "postgres").mkdir()
    (tmp_path / "postgres/port").write_text("5999\n")
    monkeypatch.setenv("CREDITBRIDGE_PG_URL",
                       "postgresql+psycopg://cb_admin:x@127.0.0.1:5999/creditbridge")

    assert api.status(tmp_path)[0].state == "absent"


def test_url_for_the_wrong_server_kind_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDITBRIDGE_MYSQL_URL", "postgresql://u:p@h:1/db")

    with pytest.raises(DevEnvError) as caught:
        api.status(tmp_path)

    assert str(caught.value) == (
        "CREDITBRIDGE_MYSQL_URL points at a 'postgresql' server, expected 'mysql'"
    )


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No cached chroot and no Oracle mysqld on PATH."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("CREDITBRIDGE_CACHE", str(cache))
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    return cache


def test_a_first_start_without_a_cached_chroot_says_where_the_build_logs(
    tmp_path: Path, empty_cache: Path
) -> None:
    home = tmp_path / "home"

    assert api.builds_mysql_first(home) == home / "mysql" / "chroot-build.log"


def test_a_cached_chroot_or_an_external_mysql_needs_no_build(
    tmp_path: Path, empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CREDITBRIDGE_MYSQL_URL", "mysql+pymysql://root:pw@db:3306/x")
    assert api.builds_mysql_first(home) is None

    monkeypatch.delenv("CREDITBRIDGE_MYSQL_URL")
    (empty_cache / "mysql-sid-chroot.tar.gz").write_bytes(b"")
    assert api.builds_mysql_first(home) is None
