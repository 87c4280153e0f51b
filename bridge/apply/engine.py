"""Engines for target databases, and the one reading of database URLs users give.

Every URL that comes from a person (a CLI option, an environment variable, a run
configuration value) goes through :func:`database_url` before an engine is built from
it, so a URL the bridge cannot use is one clear error naming where it came from,
never a driver's traceback, and never with its password.
"""

from __future__ import annotations

import re
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from bridge.apply.dialects import dialect_for
from bridge.errors import ConfigError

SUPPORTED_FORMS: Final = (
    "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE or "
    "mysql+pymysql://USER:PASSWORD@HOST:PORT/DATABASE"
)

OUR_DRIVERS: Final = {"postgresql": "psycopg", "mysql": "pymysql"}
"""The one driver the bridge installs for each database."""

# A scheme without a driver (postgres://, as libpq and many tools write it) would make
# SQLAlchemy pick psycopg2 or mysqlclient, which are not installed; ours take the same
# host, port, database and query parameters.
_BACKENDS: Final = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
}

_PASSWORD_PAIR = re.compile(r"(?i)(password\s*=\s*)('[^']*'|\S+)")
# Up to the last "@": a password may hold any character, spaces and "@" included.
_USERINFO = re.compile(r"^((?:[^:/@\s]*://)?[^:/@\s]*:)(.*)(@)")


def our_scheme(family: str) -> str:
    """``postgresql+psycopg`` or ``mysql+pymysql``: the URL scheme of *family*."""
    return f"{family}+{OUR_DRIVERS[family]}"


def database_url(text: str | URL, *, where: str, then: str) -> URL:
    """*text* as a URL the bridge can connect with, or a :class:`ConfigError`.

    *where* names the option, variable or key the URL came from; *then* says what
    happens next (``nothing was read``). ``postgres://``, ``postgresql://`` and
    ``mysql://`` are taken as the bridge's drivers, psycopg and PyMySQL.
    """
    url = text if isinstance(text, URL) else _parse(text, where, then)
    backend, _, driver = url.drivername.partition("+")
    family = _BACKENDS.get(backend)
    if family is not None and driver in ("", OUR_DRIVERS[family]):
        return url.set(drivername=our_scheme(family))

    shown = url.render_as_string(hide_password=True)
    if family is None:
        raise ConfigError(
            f"{where}: {shown} is for the database {backend!r}, but creditbridge "
            f"works with PostgreSQL and MySQL only; give {SUPPORTED_FORMS}; {then}"
        )
    raise ConfigError(
        f"{where}: {shown} names the driver {driver!r}, which creditbridge does not "
        f"install; write {our_scheme(family)}:// in its place; {then}"
    )


def _parse(text: str, where: str, then: str) -> URL:
    if not text.strip():
        raise ConfigError(
            f"{where}: the database URL is empty; give {SUPPORTED_FORMS}; {then}"
        )
    try:
        return sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port not a number
        pass
    shown = _masked(text)
    if "://" not in text and "=" in text:
        raise ConfigError(
            f"{where}: {shown!r} is a libpq connection string, not a URL; give it as "
            f"{_as_url(text)}; {then}"
        )
    raise ConfigError(
        f"{where}: {shown!r} is not a database URL; give {SUPPORTED_FORMS}; {then}"
    )


def _masked(text: str) -> str:
    """*text* with a ``password=`` value or a ``user:password@`` password hidden."""
    text = _PASSWORD_PAIR.sub(r"\1***", text)
    return _USERINFO.sub(r"\1***\3", text)


def _as_url(conninfo: str) -> str:
    """The URL form of a libpq connection string, with placeholders for the gaps."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        parts = {}
    return (
        f"postgresql+psycopg://{parts.get('user') or 'USER'}:PASSWORD@"
        f"{parts.get('host') or 'HOST'}:{parts.get('port') or 5432}/"
        f"{parts.get('dbname') or 'DATABASE'}"
    )


def make_engine(url: str | URL, **options: object) -> Engine:
    """An engine whose sessions run in UTC (and strict mode on MySQL).

    A URL a person gave should already have been read with :func:`database_url`,
    which names where it came from; this reads it once more as a safety net.
    """
    checked = database_url(url, where="database URL", then="no connection was made")
    engine = sa.create_engine(checked, pool_pre_ping=True, **options)
    dialect_for(engine.dialect.name).configure_engine(engine)
    return engine
