"""CLI commands: ``creditbridge connectors apply | status | pause | resume | restart``
and ``reset-offsets``.

All but ``reset-offsets`` talk to a Kafka Connect worker's REST API (the scale-out
path); ``reset-offsets`` forgets a pipeline's Kafka offsets stored in its target. The
embedded path needs none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bridge.capture.connect import (
    DEFAULT_URL,
    ConnectClient,
    ConnectorStatus,
    apply_files,
    wait_until_running,
)
from bridge.errors import BridgeError

ConnectUrl = Annotated[
    str,
    typer.Option(
        "--connect-url",
        envvar="CREDITBRIDGE_CONNECT_URL",
        help="REST address of the Kafka Connect worker.",
    ),
]
Name = Annotated[str, typer.Argument(help="Connector name, as in its file.")]

T = TypeVar("T")

_console = Console()
_STATE_STYLES = {"RUNNING": "green", "PAUSED": "yellow", "FAILED": "bold red"}


def register(app: typer.Typer) -> None:
    """Add the ``connectors`` command group to *app*."""
    group = typer.Typer(
        name="connectors",
        help="Manage Debezium connectors in Kafka Connect (scale-out path).",
        no_args_is_help=True,
    )
    group.command("apply")(apply)
    group.command("status")(status)
    group.command("pause")(pause)
    group.command("resume")(resume)
    group.command("restart")(restart)
    group.command("reset-offsets")(reset_offsets)
    app.add_typer(group)


def apply(
    files: Annotated[
        list[Path], typer.Argument(help="Connector JSON files to create or update.")
    ],
    connect_url: ConnectUrl = DEFAULT_URL,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait until every task runs (0: no wait).")
    ] = 0.0,
    recovery: Annotated[
        bool,
        typer.Option(
            help="After a broker lost its topics: rebuild MySQL schema history "
            "(snapshot.mode=recovery; only if no DDL ran meanwhile)."
        ),
    ] = False,
) -> None:
    """Create or update connectors from their files (idempotent)."""
    client = ConnectClient(connect_url)
    applied = _run(lambda: apply_files(client, files, recovery=recovery))
    for item in applied:
        verb = "created" if item.created else "updated"
        _console.print(
            f"{verb} connector [bold]{escape(item.name)}[/] from "
            f"{escape(str(item.path))}"
        )
    if wait > 0:
        names = [item.name for item in applied]
        statuses = _run(lambda: wait_until_running(client, names, wait))
        _print_statuses(list(statuses.values()))


def status(
    name: Annotated[
        str | None, typer.Argument(help="One connector; all when omitted.")
    ] = None,
    connect_url: ConnectUrl = DEFAULT_URL,
) -> None:
    """Show connector and task states, with the cause of any failure."""
    client = ConnectClient(connect_url)
    names = [name] if name else _run(client.connectors)
    statuses = [_run(partial(client.status, n)) for n in names]
    _print_statuses(statuses)
    if any(not s.healthy for s in statuses):
        raise typer.Exit(1)


def pause(name: Name, connect_url: ConnectUrl = DEFAULT_URL) -> None:
    """Pause a connector's tasks; offsets are kept."""
    _run(lambda: ConnectClient(connect_url).pause(name))
    _console.print(f"paused connector [bold]{escape(name)}[/]")


def resume(name: Name, connect_url: ConnectUrl = DEFAULT_URL) -> None:
    """Resume a paused connector."""
    _run(lambda: ConnectClient(connect_url).resume(name))
    _console.print(f"resumed connector [bold]{escape(name)}[/]")


def restart(
    name: Name,
    connect_url: ConnectUrl = DEFAULT_URL,
    only_failed: Annotated[
        bool, typer.Option(help="Restart only the failed tasks.")
    ] = False,
) -> None:
    """Restart a connector and its tasks."""
    _run(lambda: ConnectClient(connect_url).restart(name, only_failed=only_failed))
    _console.print(f"restarted connector [bold]{escape(name)}[/]")


def reset_offsets(
    pipeline: Annotated[
        str, typer.Option("--pipeline", help="Pipeline name, as in the run config.")
    ],
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Run configuration (YAML).")
    ] = Path("creditbridge.kafka.yaml"),
    dev: Annotated[
        bool, typer.Option("--dev", help="Use the local demo databases' accounts.")
    ] = False,
) -> None:
    """Forget a Kafka pipeline's stored offsets (after the broker lost its topics).

    Stop every `creditbridge run` of the pipeline and re-create the topics first: its
    consumers then read each partition from the beginning on their next start. On
    topics that still hold old records, those are applied again.
    """
    from bridge.cli.run import use_dev_environment
    from bridge.pipeline.config import load_run_config
    from bridge.pipeline.kafka_transport import reset_pipeline_offsets

    def reset() -> tuple[str, int]:
        if dev:
            use_dev_environment()
        run = load_run_config(config, then="no offsets were forgotten")
        return reset_pipeline_offsets(run, pipeline)

    target, count = _run(reset)
    _console.print(
        f"pipeline [bold]{escape(pipeline)}[/]: forgot the stored offsets of {count} "
        f"partitions in database {escape(target)}; its consumers start every "
        "partition at the beginning on their next start",
        highlight=False,
    )


def _run(call: Callable[[], T]) -> T:
    try:
        return call()
    except BridgeError as exc:
        _console.print(f"[bold red]FAILED:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


def _print_statuses(statuses: list[ConnectorStatus]) -> None:
    table = Table("connector", "task", "state", "worker", "error")
    for s in statuses:
        table.add_row(
            Text(s.name), "-", _styled(s.state), Text(s.worker),
            Text(_first_line(s.trace)),
        )
        for task in s.tasks:
            table.add_row(
                "", str(task.id), _styled(task.state), Text(task.worker),
                Text(task.error or ""),
            )
    _console.print(table)


def _styled(state: str) -> Text:
    return Text(state, style=_STATE_STYLES.get(state, ""))


def _first_line(trace: str | None) -> str:
    return trace.strip().splitlines()[0] if trace else ""
