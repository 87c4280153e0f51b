"""Bring the local demo databases up and down: the one entry point for other stages.

>>> env = ensure_up()                   # idempotent; starts what is not running
>>> env.postgres.url("writer")          # 'postgresql+psycopg://cb_writer:...'

Existing servers can be used instead of local ones by exporting admin URLs; nothing is
started then, but the demo schemas and accounts are installed through them:

``CREDITBRIDGE_PG_URL``, ``CREDITBRIDGE_MYSQL_URL``
    admin (setup) accounts, SQLAlchemy URLs.
``CREDITBRIDGE_PG_CAPTURE_URL``, ``CREDITBRIDGE_PG_WRITER_URL``,
``CREDITBRIDGE_MYSQL_CAPTURE_URL``, ``CREDITBRIDGE_MYSQL_WRITER_URL``
    the per-role accounts; when absent the roles get the names ``cb_capture`` and
    ``cb_writer`` with this home's generated passwords.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from bridge.devenv import chroot, schema
from bridge.devenv.home import load_secrets, locked, read_port, resolve_home
from bridge.devenv.model import (
    ROLES,
    Account,
    DevEnv,
    Kind,
    Role,
    Server,
    ServerStatus,
)
from bridge.devenv.mysql import MysqlServer, oracle_mysqld_on_path
from bridge.devenv.postgres import PostgresServer
from bridge.errors import DevEnvError

__all__ = [
    "Account",
    "DevEnv",
    "Server",
    "ServerStatus",
    "down",
    "ensure_up",
    "environment",
    "running",
    "status",
]

log = logging.getLogger(__name__)

CAPTURE_USER = "cb_capture"
WRITER_USER = "cb_writer"
ENV_PREFIX = {"postgresql": "CREDITBRIDGE_PG", "mysql": "CREDITBRIDGE_MYSQL"}


def env_name(kind: Kind, role: Role) -> str:
    """The environment variable holding *role*'s URL on *kind*."""
    prefix = ENV_PREFIX[kind]
    return f"{prefix}_URL" if role == "admin" else f"{prefix}_{role.upper()}_URL"


def ensure_up(home: Path | None = None) -> DevEnv:
    """Start whatever is not running, install schemas and accounts once, return DSNs."""
    home = resolve_home(home)
    with locked(home):
        secrets = load_secrets(home)
        postgres = _ensure_postgres(home, secrets)
        mysql = _ensure_mysql(home, secrets)
    return DevEnv(postgres=postgres, mysql=mysql, home=home)


def builds_mysql_first(home: Path | None = None) -> Path | None:
    """Where the log goes if :func:`ensure_up` must first build the MySQL chroot
    (minutes, and a download from the Debian mirror); None when it need not."""
    home = resolve_home(home)
    instance = MysqlServer(home / "mysql")
    if _external("mysql", home) is not None or instance.initialised():
        return None
    if oracle_mysqld_on_path() is not None or chroot.cached():
        return None
    return instance.root / chroot.BUILD_LOG


def running(home: Path | None = None) -> DevEnv:
    """The URLs of the servers already running; starts and installs nothing.

    For read-only commands, which must not start databases behind the user's back.
    Raises :class:`DevEnvError` when a local server is not running.
    """
    home = resolve_home(home)
    if any(s.state not in ("running", "external") for s in status(home)):
        raise DevEnvError(
            f"the local demo databases are not running (state in {home}); start "
            "them with `creditbridge dev up`"
        )
    secrets = load_secrets(home)
    return DevEnv(
        postgres=_running_server("postgresql", home, secrets),
        mysql=_running_server("mysql", home, secrets),
        home=home,
    )


def _running_server(kind: Kind, home: Path, secrets: dict[str, str]) -> Server:
    external = _external(kind, home)
    if external is not None:
        return _external_server(kind, external, secrets)
    port = read_port(home / ("postgres" if kind == "postgresql" else "mysql") / "port")
    return _local_server(
        kind, port, "creditbridge" if kind == "postgresql" else "gsxt", secrets
    )


def down(home: Path | None = None, only: Kind | None = None) -> None:
    """Stop the local servers (or *only* one) by their recorded pids.

    External servers are left alone. Returns when the processes are gone.
    """
    home = resolve_home(home)
    with locked(home):
        if only in (None, "postgresql") and _external("postgresql", home) is None:
            PostgresServer(home / "postgres").stop()
        if only in (None, "mysql") and _external("mysql", home) is None:
            MysqlServer(home / "mysql").stop()


def status(home: Path | None = None) -> list[ServerStatus]:
    """State, pid and port of both servers, without starting anything."""
    home = resolve_home(home)
    return [_postgres_status(home), _mysql_status(home)]


def environment(env: DevEnv) -> dict[str, str]:
    """``NAME: url`` for every server and role, the names ``ensure_up`` reads."""
    values: dict[str, str] = {}
    for server in (env.postgres, env.mysql):
        for role in ROLES:
            values[env_name(server.kind, role)] = server.url(role)
    values["CREDITBRIDGE_HOME"] = str(env.home)
    return values


def _ensure_postgres(home: Path, secrets: dict[str, str]) -> Server:
    external = _external("postgresql", home)
    if external is not None:
        server = _external_server("postgresql", external, secrets)
    else:
        instance = PostgresServer(home / "postgres")
        if not instance.initialised():
            instance.initialise(secrets["PG_ADMIN_PASSWORD"])
        if instance.pid() is None:
            instance.start()
        server = _local_server("postgresql", instance.port, "creditbridge", secrets)
    _install_once(home, server, schema.install_postgres)
    return server


def _ensure_mysql(home: Path, secrets: dict[str, str]) -> Server:
    external = _external("mysql", home)
    if external is not None:
        server = _external_server("mysql", external, secrets)
    else:
        instance = MysqlServer(home / "mysql")
        if not instance.initialised():
            instance.initialise()
        if instance.pid() is None:
            instance.start()
        if not instance.bootstrapped():
            instance.bootstrap_admin(secrets["MYSQL_ADMIN_PASSWORD"])
        server = _local_server("mysql", instance.port, "gsxt", secrets)
    _install_once(home, server, schema.install_mysql)
    return server


def _local_server(kind: Kind, port: int | None, database: str,
                  secrets: dict[str, str]) -> Server:
    if port is None:
        raise DevEnvError(f"no port recorded for the local {kind} server")
    prefix = "PG" if kind == "postgresql" else "MYSQL"
    return Server(
        kind=kind, host="127.0.0.1", port=port, database=database,
        admin=Account("cb_admin", secrets[f"{prefix}_ADMIN_PASSWORD"]),
        capture=Account(CAPTURE_USER, secrets[f"{prefix}_CAPTURE_PASSWORD"]),
        writer=Account(WRITER_USER, secrets[f"{prefix}_WRITER_PASSWORD"]),
    )


def _external(kind: Kind, home: Path) -> str | None:
    """The admin URL of a server the user runs, or None for the local one.

    A URL pointing at this home's own local server (as printed by ``dev env``) still
    counts as local, so sourcing that output does not stop ``dev down`` working.
    """
    text = os.environ.get(env_name(kind, "admin"))
    if not text:
        return None
    url = _parse_url(kind, "admin", text)
    local = home / ("postgres" if kind == "postgresql" else "mysql") / "port"
    if url.host in ("127.0.0.1", "localhost") and url.port == read_port(local):
        return None
    return text


def _external_server(kind: Kind, admin_url: str, secrets: dict[str, str]) -> Server:
    admin = _parse_url(kind, "admin", admin_url)
    prefix = "PG" if kind == "postgresql" else "MYSQL"
    defaults = {"capture": Account(CAPTURE_USER, secrets[f"{prefix}_CAPTURE_PASSWORD"]),
                "writer": Account(WRITER_USER, secrets[f"{prefix}_WRITER_PASSWORD"])}
    accounts: dict[str, Account] = {}
    for role in ("capture", "writer"):
        role_url = os.environ.get(env_name(kind, role))
        accounts[role] = _account(_parse_url(kind, role, role_url)) if role_url \
            else defaults[role]

    default_db = "creditbridge" if kind == "postgresql" else "gsxt"
    default_port = 5432 if kind == "postgresql" else 3306
    return Server(
        kind=kind, host=admin.host or "127.0.0.1", port=admin.port or default_port,
        database=admin.database or default_db, admin=_account(admin),
        capture=accounts["capture"], writer=accounts["writer"],
    )


def _parse_url(kind: Kind, role: Role, text: str) -> sa.URL:
    name = env_name(kind, role)
    try:
        url = sa.make_url(text)
    except sa.exc.ArgumentError as exc:
        raise DevEnvError(f"{name} is not a SQLAlchemy URL; fix or unset it") from exc
    if url.get_backend_name() != kind:
        raise DevEnvError(
            f"{name} points at a {url.get_backend_name()!r} server, expected {kind!r}"
        )
    return url


def _account(url: sa.URL) -> Account:
    return Account(url.username or "", url.password or "")


def _install_once(home: Path, server: Server,
                  install: Callable[[Server], None]) -> None:
    """Run *install* unless this exact schema version is already on *server*."""
    where = f"{server.kind}://{server.host}:{server.port}/{server.database}"
    wanted = f"{where} {schema.fingerprint(server.kind)}"
    marker = home / f"schema-{server.kind}.installed"
    if marker.exists() and marker.read_text().strip() == wanted:
        return

    try:
        install(server)
    except sa.exc.DBAPIError as exc:
        raise DevEnvError(
            f"installing the demo schema on {where} failed: {exc.orig}; "
            "nothing else was changed"
        ) from exc
    marker.write_text(wanted + "\n")


def _postgres_status(home: Path) -> ServerStatus:
    external = _external("postgresql", home)
    if external is not None:
        url = sa.make_url(external)
        return ServerStatus("postgresql", "external", None, url.port,
                            url.render_as_string(hide_password=True))
    instance = PostgresServer(home / "postgres")
    return _local_status("postgresql", instance.initialised(), instance.pid(),
                         instance.port, instance.data_dir)


def _mysql_status(home: Path) -> ServerStatus:
    external = _external("mysql", home)
    if external is not None:
        url = sa.make_url(external)
        return ServerStatus("mysql", "external", None, url.port,
                            url.render_as_string(hide_password=True))
    instance = MysqlServer(home / "mysql")
    return _local_status("mysql", instance.initialised(), instance.pid(),
                         instance.port, instance.root)


def _local_status(kind: Kind, initialised: bool, pid: int | None, port: int | None,
                  location: Path) -> ServerStatus:
    if not initialised:
        return ServerStatus(kind, "absent", None, None, str(location))
    if pid is None:
        return ServerStatus(kind, "stopped", None, port, str(location))
    return ServerStatus(kind, "running", pid, port, str(location))
