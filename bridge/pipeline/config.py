"""The run configuration: which databases, connectors and mappings make a bridge.

One YAML file names the two databases (URLs with secrets by reference), and for each
pipeline the connector file that captures its source, the mapping files that translate
its rows and the database its staging table lives in. It is read and validated once, at
start; every problem is reported together with the file and key at fault.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from bridge.apply.pending import DEFAULT_MAX_HELD
from bridge.capture.connectors import read_properties
from bridge.errors import ConfigError
from bridge.map.document import (
    Document,
    FieldPath,
    Problem,
    read_document,
    render_path,
)

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
    max_held_events: int = Field(
        default=DEFAULT_MAX_HELD,
        ge=1,
        description="events of one open source transaction held in memory before it "
        "is applied in parts (embedded transport)",
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
    heap: str = "512m"
    debezium_log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "WARN"

    @field_validator("heap")
    @classmethod
    def _heap_size(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]+[mgMG]", value):
            raise ValueError(f"expected a size such as 512m or 2g, got {value!r}")
        return value


class RunConfig(_Strict):
    home: Path = Path(".creditbridge")
    databases: dict[str, DatabaseConfig]
    pipelines: list[PipelineConfig]
    kafka: KafkaConfig = KafkaConfig()
    observe: ObserveConfig = ObserveConfig()
    jvm: JvmConfig = JvmConfig()
    _origin: ConfigOrigin | None = PrivateAttr(default=None)

    def database(self, name: str) -> DatabaseConfig:
        return self.databases[name]

    @property
    def origin(self) -> ConfigOrigin | None:
        """The file it was read from, None when built in code."""
        return self._origin

    def where(self, *path: str | int) -> str:
        """``file:line:column: field.path`` for messages about a key of this file."""
        if self._origin is None:
            return render_path(path)
        return self._origin.where(path)


def resolve_url(text: str, *, where: str = "databases") -> str:
    """Replace ``${env:NAME}``, ``${file:PATH}`` (the whole file, one secret) and
    ``${file:PATH:KEY}`` (the ``KEY=`` line of a properties file, Kafka Connect's
    syntax, which connector files use) in a database URL.
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
        file_name, _, key = name.rpartition(":")
        if file_name and not path.is_file():
            return _property(Path(file_name).expanduser(), key, where)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"{where}: cannot read secret file {path}: {exc.strerror}; create it "
                "or correct the reference"
            ) from exc

    return _REFERENCE.sub(lookup, text)


def _property(path: Path, key: str, where: str) -> str:
    try:
        properties = read_properties(path)
    except OSError as exc:
        raise ConfigError(
            f"{where}: cannot read secret file {path}: {exc.strerror}; create it or "
            "correct the reference"
        ) from exc
    if key not in properties:
        raise ConfigError(
            f"{where}: secret file {path} has no {key}= line; add it or correct the "
            "reference"
        )
    return properties[key]


@dataclass(frozen=True)
class ConfigOrigin:
    """Where a run configuration came from: its file and the position of each key."""

    path: Path
    positions: Mapping[FieldPath, tuple[int, int]]

    @property
    def folder(self) -> Path:
        return self.path.parent.resolve()

    def where(self, path: FieldPath) -> str:
        """``file:line:column: field.path`` of *path* or its nearest written parent."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                line, column = found
                return f"{self.path}:{line}:{column}: {render_path(path)}"
        return f"{self.path}: {render_path(path)}"


def load_run_config(path: Path, *, then: str = "nothing was started") -> RunConfig:
    """Read and validate *path*; one :class:`ConfigError` lists every problem.

    *then* ends that message: what the command did not do because of them.
    """
    config, problems = read_run_config(path)
    if problems or config is None:
        raise ConfigError(report_problems(path, problems, then=then))
    return config


def read_run_config(path: Path) -> tuple[RunConfig | None, list[Problem]]:
    """Every problem of *path*, and the configuration as far as it is usable.

    Pipelines with problems of their own are left out of the configuration returned,
    so that ``run`` can still check the others and report everything at once. It is
    None when nothing usable is left (a YAML syntax error, a section unreadable).
    """
    doc = read_document(path)
    if doc.problems:
        return None, doc.problems
    if not isinstance(doc.data, dict):
        keys = ", ".join(RunConfig.model_fields)
        doc.problem((), f"expected a mapping with the keys {keys} at the top level")
        return None, doc.problems

    try:
        config = RunConfig.model_validate(doc.data)
        kept = list(range(len(config.pipelines)))
    except ValidationError as exc:
        errors = exc.errors()
        _report_validation(doc, errors)
        salvaged = _salvage(doc.data, errors)
        if salvaged is None:
            return None, doc.problems
        config, kept = salvaged

    config = _without(config, kept, _cross_check(config, kept, doc))
    config = _rebase(config, path.parent)
    missing = _missing_files(config, kept, doc, path.parent.resolve())
    config = _without(config, kept, missing)
    _literal_passwords(config, doc)
    config._origin = ConfigOrigin(path, doc.positions)
    return config, sorted(doc.problems)


def report_problems(
    path: Path, problems: Sequence[Problem], *, then: str = "nothing was started"
) -> str:
    """The message of a run configuration's problems, one per line."""
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    lines = [str(problem) for problem in problems]
    return "\n".join([*lines, f"{count} {noun} in {path}; {then}"])


def _report_validation(doc: Document, errors: Sequence[ErrorDetails]) -> None:
    """Each pydantic error in our words, at its key's position.

    An unknown key that is a likely misspelling of a missing required key is reported
    once, as the misspelling.
    """
    meant = set(_misspelt(errors).values())
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            doc.problem(loc, _unknown_key(loc))
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden" or loc in meant:
            continue
        if error["type"] == "missing":
            section = _section_name(doc, loc[:-1])
            doc.problem(loc, f"required key {loc[-1]!r} is missing in {section}")
        else:
            doc.problem(loc, _reworded(error))


def _misspelt(errors: Sequence[ErrorDetails]) -> dict[FieldPath, FieldPath]:
    """Unknown keys that likely mean a missing required key: that key, by unknown."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    meant = {}
    for error in errors:
        loc = tuple(error["loc"])
        guess = _likely_key(loc) if error["type"] == "extra_forbidden" else None
        if guess is not None and (*loc[:-1], guess) in missing:
            meant[loc] = (*loc[:-1], guess)
    return meant


def _unknown_key(loc: FieldPath) -> str:
    key, parent = str(loc[-1]), loc[:-1]
    model = _model_at(parent)
    section = render_path(parent) if parent else "the top level"
    if model is None:
        return f"unknown key {key!r} in {section}"
    guess = _likely_key(loc)
    hint = f"; did you mean {guess!r}?" if guess else ""
    valid = ", ".join(model.model_fields)
    return f"unknown key {key!r} in {section}{hint} (valid keys: {valid})"


def _likely_key(loc: FieldPath) -> str | None:
    """The valid key an unknown key at *loc* most likely misspells."""
    model = _model_at(loc[:-1])
    if model is None:
        return None
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return close[0] if close else None


def _model_at(loc: FieldPath) -> type[BaseModel] | None:
    """The model a mapping at *loc* is validated as."""
    if not loc:
        return RunConfig
    if len(loc) == 2 and loc[0] == "databases":
        return DatabaseConfig
    if len(loc) == 2 and loc[0] == "pipelines":
        return PipelineConfig
    sections: dict[str | int, type[BaseModel]] = {
        "kafka": KafkaConfig,
        "observe": ObserveConfig,
        "jvm": JvmConfig,
    }
    return sections.get(loc[0]) if len(loc) == 1 else None


def _section_name(doc: Document, loc: FieldPath) -> str:
    if not loc:
        return "the top level"
    name = render_path(loc)
    if len(loc) == 2 and loc[0] == "pipelines" and isinstance(loc[1], int):
        item = doc.data["pipelines"][loc[1]]
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            return f"{name} ({item['name']})"
    return name


def _reworded(error: ErrorDetails) -> str:
    message = error["msg"]
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, Decimal):
        given = str(given)
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"expected {expected}, got {given!r}"
    message = message.replace("Input should be", "must be", 1)
    if isinstance(given, str | int | float):
        message = f"{message}, got {given!r}"
    return message


def _salvage(
    data: dict[str, Any], errors: Sequence[ErrorDetails]
) -> tuple[RunConfig, list[int]] | None:
    """The configuration without unknown keys and the parts that have problems.

    Returns it with the file's index of each pipeline kept, or None when a whole
    section (databases, pipelines, home) is unusable.
    """
    data = copy.deepcopy(data)
    # Checked as meant, so that the rest of a misspelt pipeline is checked too.
    meant = _misspelt(errors)
    bad_pipelines: set[int] = set()
    bad_databases: set[str] = set()
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            _delete(data, loc, rename=meant.get(loc))
        elif loc in meant.values():
            continue
        elif len(loc) >= 2 and loc[0] == "pipelines" and isinstance(loc[1], int):
            bad_pipelines.add(loc[1])
        elif len(loc) >= 2 and loc[0] == "databases":
            bad_databases.add(str(loc[1]))
        elif loc and loc[0] in ("kafka", "observe", "jvm"):
            _delete(data, loc[:2])  # its default stands in
        else:
            return None
    pipelines = data.get("pipelines")
    if not isinstance(pipelines, list):
        return None
    kept = [
        index
        for index, item in enumerate(pipelines)
        if index not in bad_pipelines and item.get("target") not in bad_databases
    ]
    data["pipelines"] = [pipelines[index] for index in kept]
    databases = data.get("databases") or {}
    data["databases"] = {k: v for k, v in databases.items() if k not in bad_databases}
    try:
        return RunConfig.model_validate(data), kept
    except ValidationError:
        return None


def _delete(data: Any, loc: FieldPath, rename: FieldPath | None = None) -> None:
    for part in loc[:-1]:
        data = data[part]
    if isinstance(data, dict):
        value = data.pop(loc[-1], None)
        if rename is not None:
            data[rename[-1]] = value


def _cross_check(config: RunConfig, kept: list[int], doc: Document) -> set[int]:
    """Problems between keys; returns the file indexes of the pipelines at fault."""
    at_fault = set()
    names = [p.name for p in config.pipelines]
    for index, pipeline in zip(kept, config.pipelines, strict=True):
        where = ("pipelines", index)
        if pipeline.target not in config.databases:
            known = ", ".join(sorted(config.databases)) or "none"
            doc.problem(
                (*where, "target"),
                f"unknown database {pipeline.target!r} (databases: {known})",
            )
            at_fault.add(index)
        if names.count(pipeline.name) > 1:
            doc.problem((*where, "name"), f"{pipeline.name!r} is used twice")
            at_fault.add(index)
        if not pipeline.mappings:
            doc.problem((*where, "mappings"), "at least one mapping file is needed")
            at_fault.add(index)
    return at_fault


def _missing_files(
    config: RunConfig, kept: list[int], doc: Document, folder: Path
) -> set[int]:
    """Connector and mapping files that do not exist; the pipelines they belong to."""
    at_fault = set()
    for index, pipeline in zip(kept, config.pipelines, strict=True):
        where = ("pipelines", index)
        files: list[tuple[FieldPath, str, Path]] = [
            ((*where, "connector"), "connector file", pipeline.connector)
        ]
        files += [
            ((*where, "mappings", number), "mapping file", mapping)
            for number, mapping in enumerate(pipeline.mappings)
        ]
        for key, what, path in files:
            if not path.exists():
                doc.problem(key, _no_such_file(what, doc, key, path, folder))
                at_fault.add(index)
    return at_fault


def _no_such_file(
    what: str, doc: Document, key: FieldPath, path: Path, folder: Path
) -> str:
    written = _written(doc.data, key)
    if Path(str(written)).expanduser().is_absolute():
        return f"{what} {path} does not exist"
    return (
        f"{what} {written} not found at {path}: relative paths are relative to "
        f"the config file's folder {folder}, not the working directory"
    )


def _written(data: Any, key: FieldPath) -> Any:
    for part in key:
        data = data[part]
    return data


def _literal_passwords(config: RunConfig, doc: Document) -> None:
    """Database URLs must give their password by reference, never in the file."""
    for name, database in config.databases.items():
        urls = [("url", database.url), ("admin_url", database.admin_url)]
        for key, text in urls:
            url = _parsed(text)
            if url is None or url.password is None or "${" in str(url.password):
                continue
            masked = url.render_as_string(hide_password=True)
            doc.problem(
                ("databases", name, key),
                f"the URL {masked} holds a literal password; give the URL or the "
                "password alone as a reference instead, ${env:NAME} or "
                "${file:PATH}, so that no password is kept in this file",
            )


def _parsed(text: str | None) -> sa.URL | None:
    if text is None or text.startswith("${"):
        return None
    try:
        return sa.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        return None  # a malformed URL is reported when the bridge connects


def _without(config: RunConfig, kept: list[int], drop: set[int]) -> RunConfig:
    if not drop:
        return config
    pipelines = [
        p for i, p in zip(kept, config.pipelines, strict=True) if i not in drop
    ]
    kept[:] = [i for i in kept if i not in drop]
    return config.model_copy(update={"pipelines": pipelines})


def _rebase(config: RunConfig, base: Path) -> RunConfig:
    """Make relative paths relative to the config file, not the working directory.

    That covers ``${file:PATH}`` references in database URLs too.
    """

    def absolute(p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    def secret(match: re.Match[str]) -> str:
        if match.group(1) != "file":
            return match.group(0)
        return f"${{file:{absolute(Path(match.group(2)))}}}"

    pipelines = [
        p.model_copy(
            update={
                "connector": absolute(p.connector),
                "mappings": [absolute(m) for m in p.mappings],
            }
        )
        for p in config.pipelines
    ]
    databases = {
        name: d.model_copy(
            update={
                "url": _REFERENCE.sub(secret, d.url),
                "admin_url": d.admin_url and _REFERENCE.sub(secret, d.admin_url),
            }
        )
        for name, d in config.databases.items()
    }
    return config.model_copy(
        update={
            "home": absolute(config.home),
            "pipelines": pipelines,
            "databases": databases,
        }
    )
