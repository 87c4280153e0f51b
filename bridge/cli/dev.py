"""CLI commands: ``creditbridge dev up | down | status | env | seed``.

Each command is one call into :mod:`bridge.devenv`; errors print one line and exit 1.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bridge.errors import BridgeError

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="State directory (default $CREDITBRIDGE_HOME or "
                 "<repo>/.creditbridge)."),
]

dev_app = typer.Typer(
    name="dev", help="Local PostgreSQL and MySQL with the demo registries.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
    app.add_typer(dev_app, name="dev")


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except BridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@dev_app.command()
def up(home: HomeOption = None) -> None:
    """Start both servers (first start creates schemas and accounts)."""
    from bridge.devenv.api import builds_mysql_first, ensure_up

    with _one_line_errors():
        build_log = builds_mysql_first(home)
        if build_log is not None:
            typer.echo(
                "building the MySQL server first, once per machine: a Debian chroot "
                f"from the mirror, about three minutes (progress in {build_log})"
            )
        env = ensure_up(home)
    typer.echo(
        f"PostgreSQL 127.0.0.1:{env.postgres.port} and MySQL "
        f"127.0.0.1:{env.mysql.port} are up (state in {env.home})"
    )


class ServerKind(StrEnum):
    postgresql = "postgresql"
    mysql = "mysql"


@dev_app.command()
def down(
    home: HomeOption = None,
    only: Annotated[ServerKind | None, typer.Option(
        "--only", help="Stop just this server.")] = None,
) -> None:
    """Stop the local servers (by the pids recorded when they started)."""
    from bridge.devenv import api

    with _one_line_errors():
        api.down(home, only=None if only is None else only.value)
    typer.echo(f"stopped {'local servers' if only is None else only.value}")


@dev_app.command()
def status(home: HomeOption = None) -> None:
    """Show whether each server runs, its pid, port and location."""
    from bridge.devenv import api

    with _one_line_errors():
        states = api.status(home)
    table = Table("server", "state", "pid", "port")
    # The one long column folds rather than hide the end of the path.
    table.add_column("location", overflow="fold")
    colours = {"running": "green", "stopped": "yellow", "absent": "red",
               "external": "cyan"}
    for item in states:
        table.add_row(Text(item.kind), Text(item.state, style=colours[item.state]),
                      _text(item.pid), _text(item.port), Text(item.location))
    Console().print(table)


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)


@dev_app.command()
def env(home: HomeOption = None) -> None:
    """Print export NAME=URL lines for every server and role (starts them)."""
    from bridge.devenv.api import ensure_up, environment

    with _one_line_errors():
        values = environment(ensure_up(home))
    for name, value in values.items():
        typer.echo(f"export {name}={shlex.quote(value)}")


@dev_app.command()
def seed(
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    count: Annotated[int, typer.Option("--count", min=10, max=1_000_000,
                                       help="Penalties to generate.")] = 1000,
    home: HomeOption = None,
) -> None:
    """Replace the demo penalties and native outcomes on both sides."""
    from bridge.devenv.api import ensure_up
    from bridge.devenv.generator import seed_both

    with _one_line_errors():
        report = seed_both(ensure_up(home), seed=seed, count=count,
                           progress=_progress())
    typer.echo(report.summary())


def _progress() -> Callable[[str, int], None]:
    def show(table: str, rows: int) -> None:
        typer.echo(f"  {table}: {rows} rows", err=True)

    return show
