"""``creditbridge run``: both pipelines from one run configuration."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bridge.errors import BridgeError, ConfigError, StoppedWhileStarting

if TYPE_CHECKING:
    from bridge.pipeline.runner import Bridge

log = logging.getLogger(__name__)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="Run configuration (YAML).", exists=False),
]
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_CONFIG: Final = Path("creditbridge.yaml")


def _log_level(value: str) -> str:
    """*value* as a logging level name, in any case; a usage error otherwise."""
    if value.upper() not in LOG_LEVELS:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(LOG_LEVELS)}; nothing was started"
        )
    return value.upper()


LogLevelOption = Annotated[
    str,
    typer.Option(
        "--log-level",
        callback=_log_level,
        metavar="<level>",
        help="DEBUG, INFO, WARNING or ERROR, in any case.",
    ),
]
DevOption = Annotated[
    bool,
    typer.Option(
        "--dev",
        help="Use the local demo databases (started if needed) and their accounts.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
    app.command("run")(run)
    app.command("setup")(setup)


def run(
    config: ConfigOption = DEFAULT_CONFIG,
    dev: DevOption = False,
    log_level: LogLevelOption = "INFO",
    snapshot_again: Annotated[
        bool,
        typer.Option(
            "--snapshot-again",
            help="Take a new snapshot of a source whose Debezium offsets are missing "
            "under home although its target holds a checkpoint (refused otherwise).",
        ),
    ] = False,
) -> None:
    """Start both pipelines and stream until SIGTERM or Ctrl-C."""
    console = Console(stderr=True)
    try:
        with _SignalsStop() as signals:
            from bridge.observe.logging import configure_logging
            from bridge.pipeline.config import read_run_config, report_problems
            from bridge.pipeline.runner import describe_pipelines, prepare

            configure_logging(log_level, json=False)
            existing_config(
                config, then="nothing was started", note=" (--dev reads it too)"
            )
            if dev:
                use_dev_environment()
            loaded, problems = read_run_config(config)
            if loaded is None:
                raise BridgeError(report_problems(config, problems))
            bridge = prepare(
                loaded, config_problems=problems, snapshot_again=snapshot_again
            )
            signals.bridge = bridge
            console.print(_pipeline_table(describe_pipelines(bridge)))
            stop_progress = _show_snapshot_progress(bridge, console)
            try:
                bridge.run()
            finally:
                stop_progress()
    except StoppedWhileStarting as stopped:
        console.print(
            f"{stopped}, before any change was captured; start again to resume from "
            "the stored offsets",
            highlight=False,
            soft_wrap=True,
        )
    except BridgeError as exc:
        console.print(
            f"[bold red]FAILED:[/] {escape(str(exc))}", markup=True, highlight=False
        )
        raise typer.Exit(1) from None


class _SignalsStop:
    """SIGTERM and SIGINT for the whole of ``run``: until :attr:`bridge` is set a
    signal ends start-up at once; after, it asks the bridge to stop (capture puts
    handlers of its own in while it streams)."""

    def __init__(self) -> None:
        self.bridge: Bridge | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SignalsStop:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.bridge is None:
            raise StoppedWhileStarting(signum)
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.bridge.request_stop()


def existing_config(path: Path, *, then: str, note: str = "") -> None:
    """Refuse a run configuration that does not exist, saying where it was looked for.

    Without ``--config`` that is ``creditbridge.yaml`` in the working directory, which
    a new user may not be in.
    """
    if not path.exists():
        advice = (
            f"pass --config FILE, or run in the folder that holds {path.name}{note}"
            if path == DEFAULT_CONFIG
            else "check the --config path"
        )
        raise ConfigError(
            f"no run configuration at {path.absolute()}; {advice}; {then}"
        )


def _show_snapshot_progress(bridge: Bridge, console: Console) -> Callable[[], None]:
    """Draw the initial snapshot's progress on a terminal; return what ends it."""
    from bridge.observe.progress import watch_snapshot

    if not console.is_terminal or bridge.resumes():
        return lambda: None
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_snapshot,
        args=(bridge.snapshot_readings, stop),
        kwargs={"console": console},
        name="snapshot-progress",
        daemon=True,
    )
    watcher.start()

    def end() -> None:
        stop.set()
        watcher.join()

    return end


def setup(config: ConfigOption = Path("creditbridge.yaml")) -> None:
    """Print the SQL a DBA runs on each source and target before the first run."""
    from bridge.pipeline.config import load_run_config
    from bridge.pipeline.setup import render, setup_scripts

    try:
        typer.echo(render(setup_scripts(load_run_config(config))), nl=False)
    except BridgeError as exc:
        typer.echo(f"FAILED: {exc}", err=True)
        raise typer.Exit(1) from None


def use_dev_environment() -> None:
    """Put the local demo instance's URLs and connector settings in the environment."""
    from bridge.devenv.api import ensure_up, environment

    # The connector files' host, port and password settings are derived from the
    # capture URLs (bridge.capture.connectors.derived_environment).
    for name, value in environment(ensure_up()).items():
        os.environ.setdefault(name, value)


def _pipeline_table(rows: list[dict[str, str]]) -> Table:
    columns = ("pipeline", "connector", "mappings", "target")
    table = Table(title="creditbridge pipelines")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(row[c]) for c in columns))
    return table
