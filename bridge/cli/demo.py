"""``creditbridge demo``: the scripted day on the local demo registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bridge.errors import BridgeError


def register(app: typer.Typer) -> None:
    """Add this module's command to *app*."""
    app.command("demo")(demo)


def demo(  # noqa: PLR0917 - one keyword option per parameter, as Typer wants
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Run configuration (YAML).")
    ] = Path("creditbridge.yaml"),
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the generated base penalties.")
    ] = 1,
    count: Annotated[
        int,
        typer.Option(
            "--count", min=10, max=1_000_000,
            help="Generated base penalties per registry.",
        ),
    ] = 200,
    pace: Annotated[
        float,
        typer.Option("--pace", min=0.0, help="Seconds between the day's steps."),
    ] = 1.0,
    keep_running: Annotated[
        bool,
        typer.Option("--keep-running", help="Keep the bridge live after the day."),
    ] = False,
    http_port: Annotated[
        int | None,
        typer.Option("--http-port", help="Status page port (0: any free port)."),
    ] = None,
) -> None:
    """Reset the demo registries, run the bridge and play a day of outcomes on both.

    Exits 0 when both display views agree and every step did what it should.
    """
    from bridge.demo.run import DemoOptions, run_demo

    console = Console(highlight=False, width=None if _is_terminal() else 100)
    options = DemoOptions(config, seed, count, pace, keep_running, http_port)
    try:
        ok = run_demo(options, console)
    except BridgeError as exc:
        console.print(f"[bold red]FAILED:[/] {escape(str(exc))}", markup=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("creditbridge demo: interrupted")
        raise typer.Exit(130) from None
    raise typer.Exit(0 if ok else 1)


def _is_terminal() -> bool:
    import sys

    return sys.stdout.isatty()
