"""A small client of the Kafka Connect REST API, for the scale-out path.

Connectors are applied with ``PUT /connectors/NAME/config``, which creates or updates,
so applying the same files twice changes nothing. Connector files are sent as written:
``${env:...}`` and ``${file:...}`` references are resolved by the worker's config
providers, never here, so secrets do not travel over the REST API.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.capture.connectors import ConnectorFile, load_connector
from bridge.errors import CaptureError, ConfigError, PermanentError, RetryableError

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8083"
TIMEOUT_S = 30.0


class ConnectUnavailableError(RetryableError):
    """The Kafka Connect worker cannot be reached (not started yet, restarting)."""


@dataclass(frozen=True, slots=True)
class TaskState:
    """One task of a connector, as the worker reports it."""

    id: int
    state: str
    worker: str
    trace: str | None = None

    @property
    def error(self) -> str | None:
        """The first line of the task's stack trace: the cause an operator reads."""
        if not self.trace:
            return None
        return self.trace.strip().splitlines()[0]


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """A connector's own state and its tasks' states."""

    name: str
    state: str
    worker: str
    tasks: tuple[TaskState, ...]
    trace: str | None = None

    @property
    def healthy(self) -> bool:
        states = [self.state, *(t.state for t in self.tasks)]
        return all(s in ("RUNNING", "PAUSED") for s in states) and bool(self.tasks)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectorStatus:
        connector = data["connector"]
        tasks = tuple(
            TaskState(
                id=int(t["id"]),
                state=str(t["state"]),
                worker=str(t.get("worker_id", "")),
                trace=t.get("trace"),
            )
            for t in data.get("tasks", [])
        )
        return cls(
            name=str(data["name"]),
            state=str(connector["state"]),
            worker=str(connector.get("worker_id", "")),
            tasks=tasks,
            trace=connector.get("trace"),
        )


class ConnectClient:
    """Calls one Kafka Connect worker; every method is one REST request."""

    def __init__(self, url: str = DEFAULT_URL, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def connectors(self) -> list[str]:
        names = self._request("GET", "/connectors")
        return sorted(str(n) for n in names)

    def apply(self, name: str, config: Mapping[str, str]) -> bool:
        """Create or update connector *name*; True when it was created."""
        body = {**config, "name": name}
        existed = name in self.connectors()
        self._request("PUT", f"/connectors/{_quote(name)}/config", body)
        log.info("%s connector %s", "updated" if existed else "created", name)
        return not existed

    def status(self, name: str) -> ConnectorStatus:
        data = self._request("GET", f"/connectors/{_quote(name)}/status")
        return ConnectorStatus.from_json(data)

    def config(self, name: str) -> dict[str, str]:
        data = self._request("GET", f"/connectors/{_quote(name)}/config")
        return {str(k): str(v) for k, v in data.items()}

    def pause(self, name: str) -> None:
        self._request("PUT", f"/connectors/{_quote(name)}/pause")
        log.info("paused connector %s", name)

    def resume(self, name: str) -> None:
        self._request("PUT", f"/connectors/{_quote(name)}/resume")
        log.info("resumed connector %s", name)

    def restart(self, name: str, *, only_failed: bool = False) -> None:
        """Restart the connector and its tasks (only the failed ones if asked)."""
        flags = f"includeTasks=true&onlyFailed={str(only_failed).lower()}"
        self._request("POST", f"/connectors/{_quote(name)}/restart?{flags}")
        log.info("restarted connector %s", name)

    def delete(self, name: str) -> None:
        self._request("DELETE", f"/connectors/{_quote(name)}")
        log.info("deleted connector %s", name)

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise _refusal(method, self.url + path, exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ConnectUnavailableError(
                f"Kafka Connect at {self.url} cannot be reached ({_reason(exc)}); "
                "start the worker (or check --connect-url) and try again"
            ) from exc
        return json.loads(payload) if payload else None


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc)


def _refusal(method: str, url: str, exc: urllib.error.HTTPError) -> PermanentError:
    """Connect's error body carries the useful message; keep it, drop the rest."""
    try:
        detail = json.loads(exc.read()).get("message", "")
    except (ValueError, AttributeError, OSError):
        detail = ""
    if exc.code == 404:
        return CaptureError(f"{method} {url}: not found: {detail}; nothing was changed")
    if exc.code in {400, 422}:
        return ConfigError(
            f"{method} {url}: Kafka Connect rejected the configuration: {detail}; "
            "fix the connector file and apply again"
        )
    return CaptureError(
        f"{method} {url}: Kafka Connect answered {exc.code}: {detail}; "
        "nothing was changed"
    )


def wait_until_running(
    client: ConnectClient, names: Sequence[str], timeout_s: float
) -> dict[str, ConnectorStatus]:
    """Poll until every connector and task runs; raise on a failed task or timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = {name: _status_or_none(client, name) for name in names}
        failed = [s for s in states.values() if s is not None and _failed(s)]
        if failed:
            raise CaptureError(_failure_report(failed))
        if all(s is not None and s.healthy for s in states.values()):
            return {k: v for k, v in states.items() if v is not None}
        if time.monotonic() > deadline:
            raise CaptureError(
                f"connectors {', '.join(names)} were not running after "
                f"{timeout_s:.0f} s; see `creditbridge connectors status`"
            )
        time.sleep(0.5)


def _status_or_none(client: ConnectClient, name: str) -> ConnectorStatus | None:
    try:
        return client.status(name)
    except CaptureError:
        return None


def _failed(status: ConnectorStatus) -> bool:
    return status.state == "FAILED" or any(t.state == "FAILED" for t in status.tasks)


def _failure_report(failed: Sequence[ConnectorStatus]) -> str:
    lines = []
    for status in failed:
        causes = [status.trace.strip().splitlines()[0]] if status.trace else []
        causes += [f"task {t.id}: {t.error}" for t in status.tasks if t.error]
        lines.append(f"connector {status.name} failed: {'; '.join(causes)}")
    return "\n".join([*lines, "fix the cause, then `creditbridge connectors restart`"])


@dataclass(frozen=True, slots=True)
class Applied:
    """What :func:`apply_files` did with one connector file."""

    name: str
    path: str
    created: bool


def apply_files(
    client: ConnectClient, paths: Sequence[Path], *, recovery: bool = False
) -> list[Applied]:
    """Check every connector file first, then PUT each one as written.

    All files are loaded before anything is sent, so one bad file changes nothing.
    With *recovery*, MySQL connectors start with ``snapshot.mode=recovery`` (see
    :func:`recovery_config`).
    """
    connectors = [load_connector(path) for path in paths]
    return [
        Applied(c.name, str(c.path), client.apply(c.name, _config(c, recovery)))
        for c in connectors
    ]


def _config(connector: ConnectorFile, recovery: bool) -> Mapping[str, str]:
    return recovery_config(connector) if recovery else connector.config


def recovery_config(connector: ConnectorFile) -> dict[str, str]:
    """The config to apply once after the broker lost the MySQL schema history topic.

    ``snapshot.mode=recovery`` rebuilds the history from the tables' current
    definitions and then streams from the stored binlog offset, without a new data
    snapshot. It is only correct when no DDL ran on captured tables since that offset.
    PostgreSQL keeps no history topic, so its config is returned unchanged. Apply the
    file again without recovery once the task runs.
    """
    config = dict(connector.config)
    if connector.kind == "mysql":
        config["snapshot.mode"] = "recovery"
    return config
