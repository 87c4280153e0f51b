"""``creditbridge run --dev`` as a child process the tests can stop or kill.

The run configuration is the repository's ``creditbridge.yaml`` rewritten with
absolute paths, the demo home and a free observe port, so the child can run in a
scratch directory and never writes into the repository's working directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from ruamel.yaml import YAML

from bridge.devenv.procs import free_port

REPO = Path(__file__).resolve().parents[3]
CREDITBRIDGE = Path(sys.executable).parent / "creditbridge"
_POLL = 0.1


def write_run_config(
    directory: Path,
    home: Path,
    *,
    mappings: dict[str, Path] | None = None,
    pipelines: tuple[str, ...] | None = None,
    connectors: dict[str, Path] | None = None,
    max_lag_seconds: float | None = None,
    heartbeat_seconds: float | None = None,
) -> tuple[Path, int]:
    """A run configuration in *directory*; returns its path and observe port.

    *mappings* and *connectors* replace a pipeline's mapping file or connector file by
    pipeline name; *pipelines* keeps only the named pipelines; *max_lag_seconds* sets
    the readiness bound on lag, *heartbeat_seconds* the heartbeat writers' interval.
    """
    yaml = YAML(typ="safe")
    config: dict[str, Any] = yaml.load((REPO / "creditbridge.yaml").read_text("utf-8"))
    config["home"] = str(home)
    kept = []
    for pipeline in config["pipelines"]:
        if pipelines is not None and pipeline["name"] not in pipelines:
            continue
        pipeline["connector"] = str(REPO / pipeline["connector"])
        pipeline["mappings"] = [str(REPO / m) for m in pipeline["mappings"]]
        if mappings and pipeline["name"] in mappings:
            pipeline["mappings"] = [str(mappings[pipeline["name"]])]
        if connectors and pipeline["name"] in connectors:
            pipeline["connector"] = str(connectors[pipeline["name"]])
        kept.append(pipeline)
    config["pipelines"] = kept
    port = free_port()
    config["observe"]["http_port"] = port
    if max_lag_seconds is not None:
        config["observe"]["max_lag_seconds"] = max_lag_seconds
    if heartbeat_seconds is not None:
        config["observe"]["heartbeat_seconds"] = heartbeat_seconds
    path = directory / "run.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    return path, port


class BridgeProcess:
    """One ``creditbridge run --dev`` child; its output goes to a file."""

    def __init__(
        self,
        config: Path,
        port: int,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        """*env* replaces the child's environment (default: this process's);
        *args* are added to the ``run`` command line."""
        self.config = config
        self.env = env
        self.args = args
        self.port = port
        self.workdir = workdir
        self.log_path = workdir / f"bridge-{time.monotonic_ns()}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> BridgeProcess:
        self._log = self.log_path.open("wb")
        # A wide console so that rich does not wrap messages the tests compare.
        env = {**(os.environ if self.env is None else self.env), "COLUMNS": "240"}
        command = [str(CREDITBRIDGE), "run", "--dev", "--config", str(self.config)]
        self._process = subprocess.Popen(
            [*command, *self.args],
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        return self

    def output(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Poll ``/readyz`` until it answers 200; fail with the log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_code() is not None:
                raise AssertionError(f"bridge exited early:\n{self.output()}")
            if self.readiness().get("ready"):
                return
            time.sleep(_POLL)
        raise AssertionError(f"bridge not ready after {timeout} s:\n{self.output()}")

    def readiness(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body: dict[str, Any] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
            return body
        except (OSError, ValueError):
            return {}

    def exit_code(self) -> int | None:
        assert self._process is not None
        return self._process.poll()

    def wait_exit(self, timeout: float = 60.0) -> int:
        assert self._process is not None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"bridge still running {timeout} s after the stop request:\n"
                f"{self.output()}"
            ) from None
        finally:
            self._close_log()

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self.wait_exit()

    def stop(self) -> None:
        """Make sure the child is gone (fixture clean-up)."""
        if self._process is None or self._process.poll() is not None:
            self._close_log()
            return
        self.terminate()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._close_log()

    def _signal(self, signum: int) -> None:
        assert self._process is not None
        if self._process.poll() is None:
            self._process.send_signal(signum)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_until(
    condition: Any,
    what: str,
    timeout: float = 120.0,
    bridge: BridgeProcess | None = None,
) -> None:
    """Poll *condition* until true; on timeout fail naming *what* (and the log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if bridge is not None and bridge.exit_code() is not None:
            raise AssertionError(
                f"bridge exited while waiting for {what}:\n{bridge.output()}"
            )
        time.sleep(_POLL)
    log = f":\n{bridge.output()[-4000:]}" if bridge is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{log}")
