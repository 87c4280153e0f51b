"""CLI commands: ``creditbridge dlq list | show | replay | discard``.

Each command finds the target database (``--url``, or ``--target pg|mysql`` on the
local dev environment, writer account) and calls :mod:`bridge.apply.replay` or
:mod:`bridge.apply.deadletter`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import Engine

from bridge.apply import deadletter, make_engine
from bridge.apply.replay import DeadLetterDesk, ReplayOutcome, ReplayResult
from bridge.errors import BridgeError, ConfigError

log = logging.getLogger(__name__)

dlq_app = typer.Typer(
    help="Work the dead-letter table: list, show, replay, discard.",
    no_args_is_help=True,
)
console = Console()

TARGETS = {"pg": "postgres", "mysql": "mysql"}

Target = Annotated[
    str | None,
    typer.Option("--target", help="pg or mysql: the dev environment's writer account."),
]
Url = Annotated[
    str | None, typer.Option("--url", help="SQLAlchemy URL of the target database.")
]
Pipeline = Annotated[
    str | None, typer.Option("--pipeline", help="Only this pipeline's dead letters.")
]


def register(app: typer.Typer) -> None:
    """Add the ``dlq`` command group to *app*."""
    app.add_typer(dlq_app, name="dlq")


def target_engine(target: str | None, url: str | None) -> Engine:
    """The engine named by ``--url`` or ``--target`` (dev environment, writer)."""
    if url:
        return make_engine(url)
    if target not in TARGETS:
        raise ConfigError(
            "dlq needs --target pg|mysql (the local dev databases) or --url; "
            "nothing was read"
        )
    from bridge.devenv.api import ensure_up

    server = getattr(ensure_up(), TARGETS[target])
    return make_engine(server.url("writer"))


@dlq_app.command("list")
def list_command(
    target: Target = None,
    url: Url = None,
    pipeline: Pipeline = None,
    status: Annotated[
        str, typer.Option(help="new, replayed, discarded or all.")
    ] = "new",
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
) -> None:
    """List dead letters, oldest first."""
    with _failing():
        engine = target_engine(target, url)
        with engine.connect() as connection:
            letters = deadletter.list_letters(
                connection, pipeline, None if status == "all" else status, limit
            )
    table = Table(title=f"dead letters ({status})")
    for column in (
        "id",
        "pipeline",
        "created",
        "source table",
        "key",
        "error",
        "status",
    ):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.pipeline,
            str(letter.created_at)[:19],
            letter.source_table,
            letter.event_key,
            _short(f"{letter.error_class}: {letter.message}"),
            letter.status,
        )
    console.print(table)


@dlq_app.command("show")
def show_command(
    letter_id: Annotated[int, typer.Argument(help="Dead letter id.")],
    target: Target = None,
    url: Url = None,
) -> None:
    """Show one dead letter in full: error, position, mapping and the event."""
    with _failing():
        engine = target_engine(target, url)
        with engine.connect() as connection:
            letter = deadletter.get_letter(connection, letter_id)
    if letter is None:
        _fail(f"dead letter {letter_id} does not exist; see 'creditbridge dlq list'")
    table = Table(show_header=False, title=f"dead letter {letter_id}")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in _fields(letter):
        table.add_row(name, value)
    console.print(table)


@dlq_app.command("replay")
def replay_command(
    letter_ids: Annotated[
        list[int] | None, typer.Argument(help="Dead letter ids to replay.")
    ] = None,
    all_new: Annotated[
        bool, typer.Option("--all", help="Replay every new dead letter.")
    ] = False,
    target: Target = None,
    url: Url = None,
    pipeline: Pipeline = None,
) -> None:
    """Run the current mapping on stored events and write the rows."""
    if bool(letter_ids) == all_new:
        _fail("give dead letter ids or --all (not both); nothing was replayed")
    with _failing():
        desk = DeadLetterDesk(target_engine(target, url))
        ids = desk.pending_ids(pipeline) if all_new else list(letter_ids or [])
        outcomes = _replay_with_progress(desk, ids)
    _print_outcomes(outcomes)
    if any(o.result is ReplayResult.FAILED for o in outcomes):
        raise typer.Exit(1)


@dlq_app.command("discard")
def discard_command(
    letter_id: Annotated[int, typer.Argument(help="Dead letter id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is discarded.")],
    target: Target = None,
    url: Url = None,
) -> None:
    """Mark a dead letter as handled without writing it."""
    with _failing():
        outcome = DeadLetterDesk(target_engine(target, url)).discard(letter_id, reason)
    _print_outcomes([outcome])


def _replay_with_progress(desk: DeadLetterDesk, ids: list[int]) -> list[ReplayOutcome]:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying dead letters", total=len(ids))
        return desk.replay(ids, progress=lambda _: progress.advance(task))


def _print_outcomes(outcomes: list[ReplayOutcome]) -> None:
    table = Table(title="dead letters")
    for column in ("id", "result", "detail"):
        table.add_column(column)
    for outcome in outcomes:
        table.add_row(str(outcome.letter_id), outcome.result.value, outcome.message)
    console.print(table)


def _fields(letter: Any) -> list[tuple[str, str]]:
    event = json.dumps(json.loads(letter.event), indent=2, ensure_ascii=False)
    names = (
        "pipeline", "status", "created_at", "source_table", "target_table",
        "event_key", "source_position", "mapping_name", "mapping_path",
        "mapping_version", "error_class", "error_code", "message", "attempts",
        "discard_reason", "replayed_at", "raw_event",
    )  # fmt: skip
    rows = [(name, "" if getattr(letter, name) is None else str(getattr(letter, name)))
            for name in names]  # fmt: skip
    return [*rows, ("event", event)]


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@contextmanager
def _failing() -> Iterator[None]:
    """Print a bridge error as ``FAILED: ...`` and exit 1 instead of a traceback."""
    try:
        yield
    except BridgeError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    console.print(f"[red]FAILED:[/red] {message}")
    raise typer.Exit(1)
