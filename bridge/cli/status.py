"""CLI commands: status (registered on the main app by :func:`register`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bridge.errors import BridgeError
from bridge.observe.overview import DEFAULT_URL, Databases, gather_status, render_status

DEV_DIRECTIONS = {
    "credit_china": "NECIPS → Credit China",
    "necips": "Credit China → NECIPS",
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
    app.command("status")(status)


def status(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of tables.")
    ] = False,
    url: Annotated[
        str, typer.Option(help="Where the running bridge listens.")
    ] = DEFAULT_URL,
    config: Annotated[
        Path | None,
        typer.Option(help="Run configuration naming the target databases; "
                     "without it the local demo databases are read."),
    ] = None,
) -> None:
    """Per pipeline: state, lag, last applied position, dead letters, slot retention.

    Asks the running bridge; when it does not answer, reads the checkpoint and
    dead-letter tables in the target databases.
    """
    try:
        data = gather_status(url, lambda: _databases(config))
    except BridgeError as exc:
        typer.echo(f"FAILED: no bridge answers at {url}, and {exc}", err=True)
        raise typer.Exit(code=1) from None

    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        render_status(data, Console(), url)

    if data.get("problems") and not data.get("pipelines"):
        raise typer.Exit(code=1)


def _databases(config: Path | None) -> Databases:
    if config is None:
        # A read-only command: it reads the demo databases only if they already run.
        from bridge.devenv.api import running

        env = running()
        urls = {"credit_china": env.postgres.url("writer"),
                "necips": env.mysql.url("writer")}
        return {name: (urls[name], DEV_DIRECTIONS[name]) for name in urls}

    from bridge.pipeline.config import load_run_config, resolve_url

    run = load_run_config(config)
    return {
        name: (
            resolve_url(database.url, where=f"{config}: databases.{name}.url"),
            f"into {name}",
        )
        for name, database in run.databases.items()
    }
