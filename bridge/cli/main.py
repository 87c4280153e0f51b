"""The ``creditbridge`` command: a thin front over plain functions.

Each command module registers its commands on the one Typer app; the work itself lives
in the pipeline packages, so every command is one call with a typed config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from bridge import __version__
from bridge.cli import connectors, demo, dev, dlq, mapping, reconcile, run, status

if TYPE_CHECKING:
    # Typer's own copy of Click, whose types its command classes are written in.
    from typer._click import Command, Context


class PlainFlagsGroup(TyperGroup):
    """The root command: ``--help`` and other on/off options shown as plain flags.

    Typer labels every option with its type, so a flag read as if it took a value
    (``--help <bool>``). A blank metavar leaves the type column empty for flags only.
    """

    def get_help_option(self, ctx: Context) -> Any:
        return _plain(super().get_help_option(ctx))

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags(command, ctx)
        return command


def _plain_flags(command: Command, ctx: Context) -> None:
    """Show *command*'s flags, its ``--help`` and its subcommands' as plain flags."""
    for param in command.params:
        _plain(param)
    _plain(command.get_help_option(ctx))
    for subcommand in getattr(command, "commands", {}).values():
        _plain_flags(subcommand, ctx)


def _plain(option: Any) -> Any:
    if getattr(option, "is_flag", False) and option.metavar is None:
        option.metavar = ""
    return option


app = typer.Typer(
    name="creditbridge",
    cls=PlainFlagsGroup,
    help="Change-data capture between Credit China (PostgreSQL) and NECIPS (MySQL).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (dev, mapping, dlq, run, status, reconcile, connectors, demo):
    module.register(app)


@app.callback()
def main() -> None:
    """Change-data capture between Credit China (PostgreSQL) and NECIPS (MySQL)."""


@app.command()
def version() -> None:
    """Print the creditbridge version."""
    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
