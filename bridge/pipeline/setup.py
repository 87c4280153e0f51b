"""``creditbridge setup``: the SQL a DBA runs before the bridge meets real databases.

The bridge's own accounts have the least rights that work, so they cannot create what
the bridge needs. This module writes that SQL out, per database and per pipeline, for a
person to review and run with an administrator account:

* on each source: the ``bridge`` namespace with the heartbeat table the bridge writes,
  PostgreSQL's publication and ``REPLICA IDENTITY FULL``, the capture account's rights;
* on each target: the bridge tables (checkpoint, dead letters, conflicts, Kafka
  offsets) and the writer account's rights on them and on the staging tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.schema import CreateTable

from bridge.apply import schema as bridge_schema
from bridge.capture.connectors import (
    ConnectorFile,
    load_connector,
    resolve_references,
)
from bridge.errors import ConfigError
from bridge.map import load_mapping
from bridge.pipeline.config import PipelineConfig, RunConfig, resolve_url

HEARTBEAT_TABLE = "bridge.heartbeat"
CAPTURE_PLACEHOLDER = "<capture account>"
WRITER_PLACEHOLDER = "<writer account>"
_HEARTBEAT = {
    "postgres": (
        "CREATE TABLE IF NOT EXISTS bridge.heartbeat (\n"
        "    pipeline varchar(64) PRIMARY KEY,\n"
        "    beat_at timestamptz NOT NULL,\n"
        "    seq bigint NOT NULL DEFAULT 0\n"
        ");"
    ),
    "mysql": (
        "CREATE TABLE IF NOT EXISTS bridge.heartbeat (\n"
        "    pipeline varchar(64) NOT NULL PRIMARY KEY,\n"
        "    beat_at datetime(6) NOT NULL,\n"
        "    seq bigint NOT NULL DEFAULT 0\n"
        ") ENGINE=InnoDB;"
    ),
}


@dataclass
class Script:
    """The statements for one database, with a heading saying which and why."""

    heading: str
    statements: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"-- {self.heading}"]
        lines += self.statements
        return "\n".join(lines)


def setup_scripts(config: RunConfig) -> list[Script]:
    """The SQL for every source and target the run configuration names."""
    scripts = []
    for pipeline in config.pipelines:
        connector = load_connector(pipeline.connector)
        mappings = [load_mapping(path) for path in pipeline.mappings]
        sources = sorted({m.source_table for m in mappings})
        targets = sorted({m.target_table for m in mappings})
        scripts.append(_source_script(pipeline, connector, sources))
        writer, note = _writer_account(config, pipeline)
        kind = "mysql" if _is_mysql_url(config, pipeline) else "postgres"
        scripts.append(_target_script(pipeline, kind, writer, targets))
        if note is not None:
            scripts[-1].statements.insert(0, note)
    return scripts


def _placeholder_note(placeholder: str, key: str, written: str) -> str:
    """The comment under a script's heading saying what a placeholder stands for."""
    return (
        f"-- {placeholder} stands for the account of {key}, {written},\n"
        "-- which cannot be resolved here: set what it refers to and run setup\n"
        "-- again, or write the account's name in place of the placeholder."
    )


def _source_script(
    pipeline: PipelineConfig, connector: ConnectorFile, tables: list[str]
) -> Script:
    user, note = _capture_account(connector)
    script = Script(
        f"pipeline {pipeline.name}: on the SOURCE database of {connector.path.name} "
        f"({connector.kind}), as an administrator"
    )
    add = script.statements.append
    if note is not None:
        add(note)
    if connector.kind == "mysql":
        add("CREATE DATABASE IF NOT EXISTS bridge CHARACTER SET utf8mb4;")
        add(_HEARTBEAT["mysql"])
        add(
            "GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, SHOW DATABASES "
            f"ON *.* TO '{user}'@'%';"
        )
        for schema in sorted({t.split(".")[0] for t in tables} | {"bridge"}):
            add(f"GRANT LOCK TABLES ON {schema}.* TO '{user}'@'%';")
        for table in tables:
            add(f"GRANT SELECT ON {table} TO '{user}'@'%';")
        add(f"GRANT SELECT, INSERT, UPDATE ON {HEARTBEAT_TABLE} TO '{user}'@'%';")
        return script

    publication = connector.config.get("publication.name", "dbz_publication")
    schemas = sorted({t.split(".")[0] for t in tables} | {"bridge"})
    add("CREATE SCHEMA IF NOT EXISTS bridge;")
    add(_HEARTBEAT["postgres"])
    add(f"ALTER ROLE {user} WITH LOGIN REPLICATION;")
    add(f"GRANT USAGE ON SCHEMA {', '.join(schemas)} TO {user};")
    for table in tables:
        # Whole before-images, so deletes and key changes map without guesswork.
        add(f"ALTER TABLE {table} REPLICA IDENTITY FULL;")
        add(f"GRANT SELECT ON {table} TO {user};")
    add(f"GRANT SELECT, INSERT, UPDATE ON {HEARTBEAT_TABLE} TO {user};")
    add(
        f"CREATE PUBLICATION {publication} FOR TABLE "
        f"{', '.join([*tables, HEARTBEAT_TABLE])};"
    )
    return script


def _target_script(
    pipeline: PipelineConfig, kind: str, writer: str, targets: list[str]
) -> Script:
    script = Script(
        f"pipeline {pipeline.name}: on the TARGET database {pipeline.target!r} "
        f"({kind}), as an administrator"
    )
    add = script.statements.append
    dialect: sa.Dialect = (
        mysql.dialect() if kind == "mysql" else postgresql.dialect()  # type: ignore[no-untyped-call]
    )
    if kind == "mysql":
        add("CREATE DATABASE IF NOT EXISTS bridge CHARACTER SET utf8mb4;")
    else:
        add("CREATE SCHEMA IF NOT EXISTS bridge;")
    for table in bridge_schema.metadata.sorted_tables:
        create = CreateTable(table, if_not_exists=True)
        add(f"{str(create.compile(dialect=dialect)).strip()};")

    grantee = f"'{writer}'@'%'" if kind == "mysql" else writer
    bridge_tables = [f"bridge.{name}" for name in bridge_schema.TABLE_NAMES]
    if kind == "postgres":
        add(f"GRANT USAGE ON SCHEMA bridge TO {grantee};")
    for name in [*targets, *bridge_tables]:
        add(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {grantee};")
    if kind == "postgres":
        add(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA bridge TO {grantee};")
    return script


def _target_url(config: RunConfig, pipeline: PipelineConfig) -> sa.URL | None:
    try:
        return sa.make_url(resolve_url(config.database(pipeline.target).url))
    except (ConfigError, sa.exc.ArgumentError):
        return None


def _capture_account(connector: ConnectorFile) -> tuple[str, str | None]:
    """The account the connector file logs in as, from its ``database.user``.

    A placeholder and a note saying why when a reference in it is not set.
    """
    written = connector.config.get("database.user", "")
    try:
        user = resolve_references(connector, {"database.user": written})
    except ConfigError:
        user = {}
    if user.get("database.user"):
        return user["database.user"], None
    key = f"{connector.path.name}: config.database.user"
    return CAPTURE_PLACEHOLDER, _placeholder_note(CAPTURE_PLACEHOLDER, key, written)


def _writer_account(
    config: RunConfig, pipeline: PipelineConfig
) -> tuple[str, str | None]:
    """The writer URL's account; a placeholder and a note when it is not known."""
    url = _target_url(config, pipeline)
    if url is not None and url.username:
        return url.username, None
    key = f"databases.{pipeline.target}.url"
    written = config.database(pipeline.target).url
    return WRITER_PLACEHOLDER, _placeholder_note(WRITER_PLACEHOLDER, key, written)


def _is_mysql_url(config: RunConfig, pipeline: PipelineConfig) -> bool:
    url = _target_url(config, pipeline)
    if url is not None:
        return url.get_backend_name() == "mysql"
    # Unresolved: fall back on the reference text, e.g. ${env:..._MYSQL_WRITER_URL}.
    return "mysql" in config.database(pipeline.target).url.lower()


def render(scripts: Iterable[Script]) -> str:
    return "\n\n".join(script.render() for script in scripts) + "\n"
