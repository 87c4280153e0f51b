"""Demo schemas, bridge tables and least-privilege accounts on both servers.

Everything here is idempotent. ``fingerprint`` changes whenever the SQL files, the
grants below or the apply stage's bridge-table module change, and the caller re-runs
``install_*`` only then, so a second ``ensure_up`` executes no SQL at all.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bridge.devenv.model import Server
from bridge.errors import DevEnvError

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
GRANTS_VERSION = "6"
PUBLICATION = "creditbridge_pub"
PUBLISHED_TABLES = ("xyzg.xyxf_jg", "bridge.heartbeat")

BridgeInstaller = Callable[[sa.Connection, str], Any]


def statements(sql: str) -> list[str]:
    """Split a schema file on semicolons at line ends; ``--`` comment lines dropped."""
    kept = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    parts = re.split(r";\s*$", "\n".join(kept), flags=re.MULTILINE)
    return [part.strip() for part in parts if part.strip()]


def fingerprint(kind: str) -> str:
    """Digest of everything that decides what ``install_*`` does for *kind*."""
    digest = hashlib.sha256(GRANTS_VERSION.encode())
    digest.update((SQL_DIR / f"{_sql_prefix(kind)}_schema.sql").read_bytes())
    origin = _bridge_tables_origin()
    if origin is not None:
        digest.update(origin.read_bytes())
    return digest.hexdigest()


def _sql_prefix(kind: str) -> str:
    return "postgres" if kind == "postgresql" else "mysql"


def _bridge_tables_origin() -> Path | None:
    try:
        spec = importlib.util.find_spec("bridge.apply.schema")
    except ModuleNotFoundError:
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin)


def bridge_tables_installer() -> BridgeInstaller | None:
    """``bridge.apply.schema.install_bridge_tables`` when the apply stage has one."""
    if _bridge_tables_origin() is None:
        return None
    module = importlib.import_module("bridge.apply.schema")
    installer: BridgeInstaller | None = getattr(module, "install_bridge_tables", None)
    return installer


def install_postgres(server: Server) -> None:
    """Database, roles, ``xyzg`` and ``bridge`` schemas, publication, grants."""
    _create_postgres_database(server)
    engine = sa.create_engine(server.url("admin"))
    try:
        with engine.begin() as connection:
            _postgres_roles(connection, server)
            _run_file(connection, "postgres_schema.sql")
            _postgres_publication(connection)
            _install_bridge_tables(connection, "postgresql")
            _postgres_grants(connection, server)
    finally:
        engine.dispose()
    log.info("PostgreSQL demo schema installed in database %s", server.database)


def _create_postgres_database(server: Server) -> None:
    maintenance = sa.make_url(server.url("admin")).set(database="postgres")
    engine = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": server.database},
            ).scalar()
            if not exists:
                connection.exec_driver_sql(
                    f'CREATE DATABASE "{server.database}" ENCODING \'UTF8\' '
                    "TEMPLATE template0"
                )
    finally:
        engine.dispose()


def _postgres_roles(connection: sa.Connection, server: Server) -> None:
    # A failing statement would otherwise be copied, password and all, to the log.
    connection.exec_driver_sql("SET LOCAL log_min_error_statement = panic")
    for account, attributes in ((server.capture, "LOGIN REPLICATION"),
                                (server.writer, "LOGIN")):
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :name"),
            {"name": account.user},
        ).scalar()
        verb = "ALTER" if exists else "CREATE"
        literal = _pg_literal(connection, account.password)
        connection.exec_driver_sql(
            f'{verb} ROLE "{account.user}" {attributes} PASSWORD {literal}'
        )


def _pg_literal(connection: sa.Connection, value: str) -> str:
    quoted = connection.execute(sa.text("SELECT quote_literal(:v)"), {"v": value})
    return str(quoted.scalar_one())


def _postgres_publication(connection: sa.Connection) -> None:
    # cb_capture is not a superuser, so Debezium cannot create the publication.
    tables = ", ".join(PUBLISHED_TABLES)
    exists = connection.execute(
        sa.text("SELECT 1 FROM pg_publication WHERE pubname = :name"),
        {"name": PUBLICATION},
    ).scalar()
    verb = f"ALTER PUBLICATION {PUBLICATION} SET" if exists else \
        f"CREATE PUBLICATION {PUBLICATION} FOR"
    connection.exec_driver_sql(f"{verb} TABLE {tables}")


def _postgres_grants(connection: sa.Connection, server: Server) -> None:
    capture = f'"{server.capture.user}"'
    writer = f'"{server.writer.user}"'
    admin = f'"{server.admin.user}"'
    for grant in (
        f'GRANT CONNECT ON DATABASE "{server.database}" TO {capture}, {writer}',
        f"GRANT USAGE ON SCHEMA xyzg, bridge TO {capture}, {writer}",
        f"GRANT SELECT ON xyzg.xzcf_gs, xyzg.xyxf_jg TO {capture}",
        f"GRANT SELECT, INSERT, UPDATE ON bridge.heartbeat TO {capture}",
        f"GRANT SELECT ON xyzg.xzcf_gs, xyzg.v_xzcf_display TO {writer}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON xyzg.xyxf_jg_gsxt TO {writer}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA bridge "
        f"TO {writer}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA bridge TO {writer}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {admin} IN SCHEMA bridge "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {writer}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {admin} IN SCHEMA bridge "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {writer}",
    ):
        connection.exec_driver_sql(grant)


def install_mysql(server: Server) -> None:
    """Databases ``gsxt`` and ``bridge``, accounts, grants."""
    url = sa.make_url(server.url("admin")).set(database="")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            _run_file(connection, "mysql_schema.sql")
            _install_bridge_tables(connection, "mysql")
            _mysql_accounts(connection, server)
    finally:
        engine.dispose()
    log.info("MySQL demo schema installed in databases gsxt and bridge")


def _mysql_accounts(connection: sa.Connection, server: Server) -> None:
    capture = f"'{server.capture.user}'@'%'"
    writer = f"'{server.writer.user}'@'%'"
    for account, name in ((server.capture, capture), (server.writer, writer)):
        connection.execute(
            sa.text(f"CREATE USER IF NOT EXISTS {name} IDENTIFIED BY :pw"),
            {"pw": account.password},
        )
        connection.execute(sa.text(f"ALTER USER {name} IDENTIFIED BY :pw"),
                           {"pw": account.password})

    # Debezium: binlog streaming (REPLICATION SLAVE/CLIENT), the snapshot's database
    # listing (SHOW DATABASES) and global read lock (RELOAD), falling back to table
    # locks (LOCK TABLES). SELECT only on the captured tables.
    for grant in (
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, SHOW DATABASES ON *.* "
        f"TO {capture}",
        f"GRANT LOCK TABLES ON gsxt.* TO {capture}",
        # When the global read lock times out (a busy server), Debezium locks each
        # captured table instead, the heartbeat table in `bridge` included.
        f"GRANT LOCK TABLES ON bridge.* TO {capture}",
        f"GRANT SELECT ON gsxt.E_CASE_PUB TO {capture}",
        f"GRANT SELECT ON gsxt.E_CR_REPAIR TO {capture}",
        f"GRANT SELECT, INSERT, UPDATE ON bridge.heartbeat TO {capture}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON gsxt.E_CR_REPAIR_XYZG TO {writer}",
        f"GRANT SELECT ON gsxt.E_CASE_PUB TO {writer}",
        f"GRANT SELECT ON gsxt.V_CASE_DISPLAY TO {writer}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON bridge.* TO {writer}",
    ):
        # text() escapes the '%' of the host part for PyMySQL's pyformat style.
        connection.execute(sa.text(grant))


def _run_file(connection: sa.Connection, name: str) -> None:
    for statement in statements((SQL_DIR / name).read_text(encoding="utf-8")):
        connection.exec_driver_sql(statement)


def _install_bridge_tables(connection: sa.Connection, dialect_name: str) -> None:
    installer = bridge_tables_installer()
    if installer is None:
        log.info("bridge.apply.schema not present yet; bridge tables not installed")
        return
    try:
        installer(connection, dialect_name)
    except sa.exc.DBAPIError as exc:
        raise DevEnvError(
            f"bridge.apply.schema.install_bridge_tables failed on {dialect_name}: "
            f"{exc.orig}; the demo schema was not installed"
        ) from exc
