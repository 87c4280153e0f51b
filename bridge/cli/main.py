"""The ``creditbridge`` command: a thin front over plain functions.

Each command module registers its commands on the one Typer app; the work itself lives
in the pipeline packages, so every command is one call with a typed config.
"""

from __future__ import annotations

import typer

from bridge import __version__
from bridge.cli import connectors, demo, dev, dlq, mapping, run, status

app = typer.Typer(
    name="creditbridge",
    help="Change-data capture between Credit China (PostgreSQL) and NECIPS (MySQL).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (dev, mapping, dlq, run, status, connectors, demo):
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
