"""Database URLs as people give them: taken as our drivers, or one clear error."""

from __future__ import annotations

import pytest

from bridge.apply.engine import database_url, make_engine
from bridge.errors import ConfigError

FORMS = (
    "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE or "
    "mysql+pymysql://USER:PASSWORD@HOST:PORT/DATABASE"
)


@pytest.mark.parametrize(
    ("given", "taken_as"),
    [
        (
            "postgres://foo@127.0.0.1:41151/creditbridge",
            "postgresql+psycopg://foo@127.0.0.1:41151/creditbridge",
        ),
        (
            "postgresql://foo:pw@127.0.0.1/creditbridge?sslmode=disable",
            "postgresql+psycopg://foo:pw@127.0.0.1/creditbridge?sslmode=disable",
        ),
        (
            "postgres+psycopg://foo@127.0.0.1/creditbridge",
            "postgresql+psycopg://foo@127.0.0.1/creditbridge",
        ),
        (
            "mysql://cb_admin:x@127.0.0.1:36289/gsxt?charset=utf8mb4",
            "mysql+pymysql://cb_admin:x@127.0.0.1:36289/gsxt?charset=utf8mb4",
        ),
        (
            "postgresql+psycopg://foo@127.0.0.1/creditbridge",
            "postgresql+psycopg://foo@127.0.0.1/creditbridge",
        ),
        ("mysql+pymysql://a@127.0.0.1/gsxt", "mysql+pymysql://a@127.0.0.1/gsxt"),
    ],
)
def test_plain_schemes_are_taken_as_our_drivers(given: str, taken_as: str) -> None:
    """Pins: postgres:// and mysql:// failing on drivers that are not installed."""
    url = database_url(given, where="--pg-url", then="nothing was checked")

    assert url.render_as_string(hide_password=False) == taken_as


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "host=127.0.0.1 port=41151 dbname=creditbridge",
            "--pg-url: 'host=127.0.0.1 port=41151 dbname=creditbridge' is a libpq "
            "connection string, not a URL; give it as "
            "postgresql+psycopg://USER:PASSWORD@127.0.0.1:41151/creditbridge; "
            "nothing was checked",
        ),
        (
            "host=db user=cb_admin password='s3 cret' dbname=creditbridge",
            "--pg-url: 'host=db user=cb_admin password=*** dbname=creditbridge' is a "
            "libpq connection string, not a URL; give it as "
            "postgresql+psycopg://cb_admin:PASSWORD@db:5432/creditbridge; "
            "nothing was checked",
        ),
        (
            "cb_admin:s3cret@127.0.0.1:5432/creditbridge",
            "--pg-url: 'cb_admin:***@127.0.0.1:5432/creditbridge' is not a database "
            f"URL; give {FORMS}; nothing was checked",
        ),
        (
            "postgres://cb_admin:s3 cr@t@127.0.0.1:port/creditbridge",
            "--pg-url: 'postgres://cb_admin:***@127.0.0.1:port/creditbridge' is not a "
            f"database URL; give {FORMS}; nothing was checked",
        ),
        (
            " ",
            f"--pg-url: the database URL is empty; give {FORMS}; nothing was checked",
        ),
        (
            "postgresql+psycopg2://cb_admin:s3cret@127.0.0.1/creditbridge",
            "--pg-url: postgresql+psycopg2://cb_admin:***@127.0.0.1/creditbridge names "
            "the driver 'psycopg2', which creditbridge does not install; write "
            "postgresql+psycopg:// in its place; nothing was checked",
        ),
        (
            "mysql+mysqldb://cb_admin:s3cret@127.0.0.1/gsxt",
            "--pg-url: mysql+mysqldb://cb_admin:***@127.0.0.1/gsxt names the driver "
            "'mysqldb', which creditbridge does not install; write mysql+pymysql:// "
            "in its place; nothing was checked",
        ),
        (
            "oracle://cb_admin:s3cret@127.0.0.1/xe",
            "--pg-url: oracle://cb_admin:***@127.0.0.1/xe is for the database "
            "'oracle', but creditbridge works with PostgreSQL and MySQL only; give "
            f"{FORMS}; nothing was checked",
        ),
    ],
)
def test_unusable_urls_say_where_they_came_from_without_the_password(
    given: str, message: str
) -> None:
    """Pins: tracebacks from SQLAlchemy for a libpq string or another driver."""
    with pytest.raises(ConfigError) as raised:
        database_url(given, where="--pg-url", then="nothing was checked")

    assert str(raised.value) == message
    assert "s3" not in str(raised.value)


def test_make_engine_reads_a_url_it_is_given_as_text() -> None:
    engine = make_engine("postgres://cb_writer:pw@127.0.0.1:1/creditbridge")

    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_make_engine_refuses_a_non_url_with_a_message() -> None:
    with pytest.raises(ConfigError) as raised:
        make_engine("dbname=creditbridge")

    assert str(raised.value) == (
        "database URL: 'dbname=creditbridge' is a libpq connection string, not a URL; "
        "give it as postgresql+psycopg://USER:PASSWORD@HOST:5432/creditbridge; no "
        "connection was made"
    )
