from __future__ import annotations

from bridge.devenv.model import Account, Server


def _server(kind: str, password: str = "p@ss:w/rd%") -> Server:
    return Server(
        kind=kind,  # type: ignore[arg-type]
        host="127.0.0.1", port=5999, database="gsxt" if kind == "mysql" else "cb",
        admin=Account("cb_admin", password), capture=Account("cb_capture", "c"),
        writer=Account("cb_writer", "w"),
    )


def test_postgres_url_quotes_the_password() -> None:
    url = _server("postgresql").url("admin")

    assert url == "postgresql+psycopg://cb_admin:p%40ss%3Aw%2Frd%25@127.0.0.1:5999/cb"


def test_mysql_url_asks_for_utf8mb4() -> None:
    assert _server("mysql").url("writer") == (
        "mysql+pymysql://cb_writer:w@127.0.0.1:5999/gsxt?charset=utf8mb4"
    )


def test_repr_never_shows_a_password() -> None:
    """Pins: a logged Server or Account must not leak its password."""
    text = repr(_server("postgresql", password="secret-value"))

    assert "secret-value" not in text
    assert "Account(user='cb_admin')" in text
