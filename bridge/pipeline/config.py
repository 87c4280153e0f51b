"""The run configuration: which databases, connectors and mappings make a bridge.

One YAML file names the two databases (URLs with secrets by reference), and for each
pipeline the connector file that captures its source, the mapping files that translate
its rows and the database its staging table lives in. It is read and validated once, at
start; every problem is reported together with the file and key at fault.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bridge.errors import ConfigError

_REFERENCE = re.compile(r"\$\{(env|file):([^}]+)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = Field(description="SQLAlchemy URL of the writer account")
    admin_url: str | None = Field(
        default=None, description="only for `creditbridge check` and setup"
    )


class PipelineConfig(_Strict):
    name: str
    connector: Path
    mappings: list[Path]
    target: str
    description: str = ""
    transport: Literal["embedded", "kafka"] = "embedded"
    province_column: str | None = Field(
        default=None,
        description="target column holding the GB/T 2260 province code, for status",
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", value):
            raise ValueError(
                "must be 1-64 lower-case letters, digits, '-' or '_', "
                "starting with a letter"
            )
        return value


class KafkaConfig(_Strict):
    """For ``transport: kafka`` pipelines; each joins group ``<group_id>-<name>``."""

    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "creditbridge"
    session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    max_batch: int = Field(default=2048, ge=1, le=100_000)


class ObserveConfig(_Strict):
    http_host: Literal["127.0.0.1", "localhost", "::1"] = "127.0.0.1"
    http_port: int = Field(default=9187, ge=0, le=65535)
    max_lag_seconds: float = Field(default=60.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    """How often the bridge writes each pipeline's heartbeat row into its source."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class JvmConfig(_Strict):
    heap: str = Field(default="512m", pattern=r"^[0-9]+[mgMG]$")
    debezium_log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "WARN"


class RunConfig(_Strict):
    home: Path = Path(".creditbridge")
    databases: dict[str, DatabaseConfig]
    pipelines: list[PipelineConfig]
    kafka: KafkaConfig = KafkaConfig()
    observe: ObserveConfig = ObserveConfig()
    jvm: JvmConfig = JvmConfig()

    def database(self, name: str) -> DatabaseConfig:
        return self.databases[name]


def resolve_url(text: str, *, where: str = "databases") -> str:
    """Replace ``${env:NAME}`` and ``${file:PATH}`` in a database URL.

    The same syntax as Kafka Connect's config providers, which connector files use.
    """

    def lookup(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "env":
            if name not in os.environ:
                raise ConfigError(
                    f"{where}: environment variable {name} is not set; "
                    "set it (see `creditbridge dev env`) and start again"
                )
            return os.environ[name]
        path = Path(name).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"{where}: cannot read secret file {path}: {exc.strerror}; "
                "nothing was started"
            ) from exc

    return _REFERENCE.sub(lookup, text)


def load_run_config(path: Path) -> RunConfig:
    """Read and validate *path*; one :class:`ConfigError` lists every problem."""
    try:
        raw: Any = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")

    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError("\n".join(problems)) from None

    problems = _cross_check(config, path)
    if problems:
        raise ConfigError("\n".join(problems))
    return _rebase(config, path.parent)


def _cross_check(config: RunConfig, path: Path) -> list[str]:
    problems = []
    names = [p.name for p in config.pipelines]
    for index, pipeline in enumerate(config.pipelines):
        where = f"{path}: pipelines.{index}"
        if pipeline.target not in config.databases:
            known = ", ".join(sorted(config.databases)) or "none"
            problems.append(
                f"{where}.target: unknown database {pipeline.target!r} "
                f"(databases: {known})"
            )
        if names.count(pipeline.name) > 1:
            problems.append(f"{where}.name: {pipeline.name!r} is used twice")
        if not pipeline.mappings:
            problems.append(f"{where}.mappings: at least one mapping file is needed")
    return problems


def _rebase(config: RunConfig, base: Path) -> RunConfig:
    """Make relative paths relative to the config file, not the working directory."""

    def absolute(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    pipelines = [
        p.model_copy(
            update={
                "connector": absolute(p.connector),
                "mappings": [absolute(m) for m in p.mappings],
            }
        )
        for p in config.pipelines
    ]
    return config.model_copy(
        update={"home": absolute(config.home), "pipelines": pipelines}
    )
