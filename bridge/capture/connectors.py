"""Connector files: one Debezium connector in Kafka Connect's JSON shape.

A file reads ``{"name": ..., "config": {...}}`` and loads unchanged into Kafka Connect.
Secrets, hosts and ports are references in Connect's config-provider syntax,
``${env:NAME}`` or ``${file:PATH:KEY}`` (a properties file), so Connect resolves them
with its own providers and the embedded engine resolves them here.

For the embedded engine :func:`embedded_properties` adds only what embedding needs:
a file offset store under ``<home>/offsets/``, a file schema history under
``<home>/history/`` for MySQL, and a short offset flush interval.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from bridge.errors import ConfigError

log = logging.getLogger(__name__)

SourceKind = Literal["postgres", "mysql"]

CONNECTOR_CLASSES: Mapping[str, SourceKind] = {
    "io.debezium.connector.postgresql.PostgresConnector": "postgres",
    "io.debezium.connector.mysql.MySqlConnector": "mysql",
}

_REQUIRED: Mapping[SourceKind, tuple[str, ...]] = {
    "postgres": (
        "connector.class",
        "topic.prefix",
        "database.hostname",
        "database.port",
        "database.user",
        "database.password",
        "database.dbname",
        "plugin.name",
        "publication.name",
        "slot.name",
        "table.include.list",
    ),
    "mysql": (
        "connector.class",
        "topic.prefix",
        "database.hostname",
        "database.port",
        "database.user",
        "database.password",
        "database.server.id",
        "table.include.list",
    ),
}

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_REFERENCE = re.compile(r"\$\{(?P<provider>[a-z]+):(?P<argument>[^}]*)\}")

# The schema history lives in a Kafka topic under Connect; embedded, in a file.
_HISTORY_CLASS = "schema.history.internal"
_KAFKA_HISTORY_PREFIX = "schema.history.internal.kafka."
_FILE_HISTORY = "io.debezium.storage.file.history.FileSchemaHistory"
_FILE_OFFSET_STORE = "org.apache.kafka.connect.storage.FileOffsetBackingStore"

DEFAULT_FLUSH_INTERVAL_MS = "1000"
DEFAULT_SHUTDOWN_TIMEOUT_MS = "1000"


@dataclass(frozen=True, slots=True)
class ConnectorFile:
    """A connector file as written: references are not resolved yet."""

    name: str
    config: Mapping[str, str]
    path: Path

    @property
    def kind(self) -> SourceKind:
        return CONNECTOR_CLASSES[self.config["connector.class"]]

    @property
    def topic_prefix(self) -> str:
        return self.config["topic.prefix"]

    def where(self, key: str | None = None) -> str:
        """``path: config.key``, the place an error message names."""
        return f"{self.path}: config.{key}" if key else str(self.path)


def load_connector(path: Path) -> ConnectorFile:
    """Read and check *path*; every problem is reported in one :class:`ConfigError`."""
    raw = _read_json(path)
    problems: list[str] = []

    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append(
            f"{path}: name: expected 1-64 lower-case letters, digits, '-' or '_' "
            f"starting with a letter, got {name!r}"
        )
    config = raw.get("config")
    if not isinstance(config, dict):
        problems.append(f"{path}: config: expected an object of settings")
        raise ConfigError(_report(problems))

    problems.extend(_check_config(path, config))
    if problems:
        raise ConfigError(_report(problems))
    return ConnectorFile(name=str(name), config=dict(config), path=path.resolve())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read connector file: {exc.strerror}; nothing was started"
        ) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}; "
            "nothing was started"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected an object with 'name' and 'config'; nothing was started"
        )
    return raw


def _check_config(path: Path, config: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{path}: config.{key}: expected a string, got {type(value).__name__} "
        "(Kafka Connect takes every setting as a string)"
        for key, value in config.items()
        if not isinstance(value, str)
    ]
    connector_class = config.get("connector.class")
    kind = CONNECTOR_CLASSES.get(str(connector_class))
    if kind is None:
        known = ", ".join(CONNECTOR_CLASSES)
        problems.append(
            f"{path}: config.connector.class: {connector_class!r} is not supported "
            f"(supported: {known})"
        )
        return problems

    problems.extend(
        f"{path}: config.{key}: missing"
        for key in _REQUIRED[kind]
        if key not in config
    )
    if kind == "postgres" and config.get("plugin.name", "pgoutput") != "pgoutput":
        problems.append(
            f"{path}: config.plugin.name: must be 'pgoutput' (the only logical "
            "decoding plugin the servers have)"
        )
    return problems


def _report(problems: list[str]) -> str:
    return "\n".join([*problems, "nothing was started"])


def resolve_references(
    connector: ConnectorFile,
    config: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """*config* (default: the file's) with every ``${provider:...}`` replaced.

    Unknown providers, unset variables and unreadable files are all reported at once.
    """
    settings = connector.config if config is None else config
    given = os.environ if environ is None else environ
    env = {**derived_environment(given), **given}
    problems: list[str] = []
    resolved = {}
    for key, value in settings.items():

        def replace(match: re.Match[str], key: str = key) -> str:
            return _lookup(connector, key, match, env, problems)

        resolved[key] = _REFERENCE.sub(replace, value)
    if problems:
        raise ConfigError(_report(problems))
    return resolved


def derived_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``CREDITBRIDGE_{PG,MYSQL}_{HOST,PORT,DATABASE,CAPTURE_PASSWORD}`` from the
    capture accounts' URLs (``CREDITBRIDGE_PG_CAPTURE_URL``, as ``creditbridge dev
    env`` prints them), for the variables the connector files refer to.

    Kafka Connect cannot split a URL, so the files name the parts; variables set
    explicitly win over these.
    """
    derived: dict[str, str] = {}
    for prefix in ("CREDITBRIDGE_PG", "CREDITBRIDGE_MYSQL"):
        text = environ.get(f"{prefix}_CAPTURE_URL")
        if not text:
            continue
        try:
            url = sa.make_url(text)
        except sa.exc.ArgumentError:
            log.warning("%s_CAPTURE_URL is not a URL; not deriving from it", prefix)
            continue
        parts = {
            "HOST": url.host,
            "PORT": None if url.port is None else str(url.port),
            "DATABASE": url.database,
            "CAPTURE_PASSWORD": url.password,
        }
        derived.update(
            {f"{prefix}_{name}": str(value) for name, value in parts.items() if value}
        )
    return derived


def _lookup(
    connector: ConnectorFile,
    key: str,
    match: re.Match[str],
    environ: Mapping[str, str],
    problems: list[str],
) -> str:
    provider, argument = match.group("provider"), match.group("argument")
    where = connector.where(key)
    if provider == "env":
        if argument not in environ:
            problems.append(f"{where}: {_unset(argument)}")
            return ""
        return environ[argument]
    if provider == "file":
        return _lookup_file(where, argument, problems)
    problems.append(
        f"{where}: unknown config provider {provider!r} (use env or file)"
    )
    return ""


def _unset(name: str) -> str:
    """What to export for an unset variable the connector file refers to."""
    for prefix in ("CREDITBRIDGE_PG", "CREDITBRIDGE_MYSQL"):
        # The parts are derived from the capture URL, which `dev env` prints.
        if name.startswith(f"{prefix}_") and name != f"{prefix}_CAPTURE_URL":
            return (
                f"environment variable {name} is not set; export {prefix}_CAPTURE_URL "
                f"(`creditbridge dev env` prints it for the local demo databases) or "
                f"{name} itself"
            )
    return f"environment variable {name} is not set; export it"


def _lookup_file(where: str, argument: str, problems: list[str]) -> str:
    file_name, _, property_name = argument.rpartition(":")
    if not file_name or not property_name:
        problems.append(
            f"{where}: file reference must read ${{file:PATH:KEY}}, got "
            f"${{file:{argument}}}"
        )
        return ""
    try:
        properties = read_properties(Path(file_name))
    except OSError as exc:
        problems.append(f"{where}: cannot read {file_name}: {exc.strerror}")
        return ""
    if property_name not in properties:
        problems.append(f"{where}: {file_name} has no key {property_name}")
        return ""
    return properties[property_name]


def read_properties(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as Java reads a simple properties file (no continuations)."""
    properties = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#!":
            continue
        key, separator, value = stripped.partition("=")
        if separator:
            properties[key.strip()] = value.strip()
    return properties


def offsets_file(home: Path, name: str) -> Path:
    return home / "offsets" / f"{name}.dat"


def history_file(home: Path, name: str) -> Path:
    return home / "history" / f"{name}.dat"


def embedded_properties(
    connector: ConnectorFile,
    home: Path,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The engine properties for running *connector* embedded, state under *home*."""
    home = home.resolve()
    config = {
        key: value
        for key, value in connector.config.items()
        if key != _HISTORY_CLASS and not key.startswith(_KAFKA_HISTORY_PREFIX)
    }
    properties = resolve_references(connector, config, environ)

    properties["name"] = connector.name
    properties["offset.storage"] = _FILE_OFFSET_STORE
    properties["offset.storage.file.filename"] = str(offsets_file(home, connector.name))
    properties.setdefault("offset.flush.interval.ms", DEFAULT_FLUSH_INTERVAL_MS)
    # Debezium waits 4 s by default for a busy binlog reader on stop; the runner
    # promises to stop within 2 s. Unacknowledged records come again on restart.
    properties.setdefault("executor.shutdown.timeout.ms", DEFAULT_SHUTDOWN_TIMEOUT_MS)
    offsets_file(home, connector.name).parent.mkdir(parents=True, exist_ok=True)
    if connector.kind == "mysql":
        history = history_file(home, connector.name)
        properties[_HISTORY_CLASS] = _FILE_HISTORY
        properties[f"{_HISTORY_CLASS}.file.filename"] = str(history)
        history.parent.mkdir(parents=True, exist_ok=True)
    return properties


def describe(properties: Mapping[str, str]) -> dict[str, str]:
    """*properties* with secrets masked, for logs and error messages."""
    return {
        key: "****" if "password" in key or "secret" in key else value
        for key, value in properties.items()
    }
