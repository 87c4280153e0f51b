"""CLI commands: ``creditbridge dlq list | show | replay | discard``.

Each command finds the target database (``--url``, or ``--target pg|mysql`` on the
local dev environment, writer account; with neither, both local demo databases) and
calls :mod:`bridge.apply.replay` or :mod:`bridge.apply.deadletter`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

from bridge.apply import deadletter, make_engine
from bridge.apply.engine import database_url
from bridge.apply.replay import DeadLetterDesk, ReplayOutcome, ReplayResult
from bridge.errors import BridgeError, ConfigError, DevEnvError, database_message
from bridge.map.schemas import reach
from bridge.observe.listing import listing

log = logging.getLogger(__name__)

dlq_app = typer.Typer(
    help="Work the dead-letter table: list, show, replay, discard.",
    no_args_is_help=True,
)
console = Console()

TARGETS = {"pg": "postgres", "mysql": "mysql"}
STATUSES = ("new", "replayed", "discarded", "all")
NO_TARGET_TABLE = (
    "(none: the mapping refused the row before a target row existed; its target "
    "table is the mapping's target.table)"
)

Target = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="pg or mysql: a local demo database (writer account); default both.",
    ),
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


@dataclass(frozen=True)
class TargetDatabase:
    """One database holding dead letters, and the name ``list`` shows for it."""

    label: str
    engine: Engine


def target_databases(target: str | None, url: str | None) -> list[TargetDatabase]:
    """``--url``, else ``--target``, else both local demo databases (never started).

    Each is connected to once here, so a wrong URL or password is one clear error.
    """
    if url:
        engine = make_engine(
            database_url(url, where="--url", then="nothing was read or changed")
        )
        chosen = [TargetDatabase(engine.url.render_as_string(), engine)]
    elif target is not None and target not in TARGETS:
        raise ConfigError(
            f"--target {target!r} is not one of pg, mysql (the local demo databases); "
            "give one of them or --url; nothing was read"
        )
    else:
        chosen = _demo_databases([target] if target else list(TARGETS))
    for database in chosen:
        reach(database.engine, then="nothing was read or changed")
    return chosen


def _demo_databases(targets: list[str]) -> list[TargetDatabase]:
    from bridge.devenv.api import running

    try:
        env = running()
    except DevEnvError as exc:
        raise ConfigError(f"{exc}, or give --url; nothing was read") from exc
    return [
        TargetDatabase(name, make_engine(getattr(env, TARGETS[name]).url("writer")))
        for name in targets
    ]


def _locate(databases: list[TargetDatabase], letter_id: int) -> TargetDatabase:
    """The one database holding dead letter *letter_id* (ids repeat across them)."""
    if len(databases) == 1:
        return databases[0]
    holding = []
    for database in databases:
        with database.engine.connect() as connection:
            if deadletter.get_letter(connection, letter_id) is not None:
                holding.append(database)
    if not holding:
        raise ConfigError(
            f"dead letter {letter_id} does not exist in "
            f"{' or '.join(d.label for d in databases)}; see 'creditbridge dlq list'"
        )
    if len(holding) > 1:
        raise ConfigError(
            f"dead letter {letter_id} exists in "
            f"{' and '.join(d.label for d in holding)}; give --target to choose; "
            "nothing was changed"
        )
    return holding[0]


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
    if status not in STATUSES:
        _fail(
            f"--status {status!r} is not one of {', '.join(STATUSES)}; nothing was read"
        )
    with _failing():
        databases = target_databases(target, url)
        letters = [
            (database.label, letter)
            for database in databases
            for letter in _letters(database, pipeline, status, limit)
        ]
    if not letters:
        console.print(Text(_none_found(databases, pipeline, status)))
        return
    console.print(_letter_listing(databases, letters, status))


def _letter_listing(
    databases: list[TargetDatabase], letters: list[tuple[str, Any]], status: str
) -> Any:
    """One line per dead letter with its whole key; when and why folded below it.

    Readable at 80 columns: nothing on the first line is cut, the error wraps.
    """
    headers = ["id", "key", "status", "pipeline"]
    title = f"dead letters ({status})"
    if len(databases) > 1:
        headers.append("database")  # ids repeat across databases
    else:
        title += f" in {databases[0].label}"
    items = []
    for database, letter in letters:
        cells = [str(letter.id), deadletter.key_text(letter.event_key), letter.status]
        cells += [letter.pipeline, database][: len(headers) - 3]
        detail = (
            f"{str(letter.created_at)[:19]} UTC, {letter.source_table}: "
            f"{letter.error_class}: {letter.message}"
        )
        items.append((cells, detail))
    return listing(title, headers, items)


def _none_found(
    databases: list[TargetDatabase], pipeline: str | None, status: str
) -> str:
    """What an empty ``list`` says: no dead letters, under which filter, where."""
    which = "" if status == "all" else f" {status}"
    of = f" of pipeline {pipeline!r}" if pipeline else ""
    where = " or ".join(database.label for database in databases)
    return f"no{which} dead letters{of} in {where}"


def _letters(
    database: TargetDatabase, pipeline: str | None, status: str, limit: int
) -> list[Any]:
    with database.engine.connect() as connection:
        return deadletter.list_letters(
            connection, pipeline, None if status == "all" else status, limit
        )


@dlq_app.command("show")
def show_command(
    letter_id: Annotated[int, typer.Argument(help="Dead letter id.")],
    target: Target = None,
    url: Url = None,
) -> None:
    """Show one dead letter in full: error, position, mapping and the event."""
    with _failing():
        database = _locate(target_databases(target, url), letter_id)
        with database.engine.connect() as connection:
            letter = deadletter.get_letter(connection, letter_id)
    if letter is None:
        _fail(f"dead letter {letter_id} does not exist; see 'creditbridge dlq list'")
    table = Table(show_header=False, title=f"dead letter {letter_id}")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("database", Text(database.label))
    for name, value in _fields(letter):
        table.add_row(name, Text(value))
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
    if letter_ids and all_new:
        _fail("give dead letter ids or --all, not both; nothing was replayed")
    if not letter_ids and not all_new:
        _fail(
            "give the ids of the dead letters to replay, or --all for every new "
            "one; nothing was replayed"
        )
    with _failing():
        databases = target_databases(target, url)
        if all_new:
            work = [
                (d, DeadLetterDesk(d.engine).pending_ids(pipeline)) for d in databases
            ]
        else:
            work = _by_database(databases, letter_ids or [])
        outcomes = [
            outcome
            for database, ids in work
            for outcome in _replay_with_progress(DeadLetterDesk(database.engine), ids)
        ]
    _print_outcomes(outcomes)
    failed = [o.letter_id for o in outcomes if o.result is ReplayResult.FAILED]
    if failed:
        ids = ", ".join(str(letter_id) for letter_id in failed)
        which = f"Dead letter {ids} failed again and stays new"
        if len(failed) > 1:
            which = f"Dead letters {ids} failed again and stay new"
        console.print(
            f"{which}. Where the source row "
            "is wrong, correct it there: the bridge captures and applies the "
            "corrected row, then `creditbridge dlq discard ID --reason TEXT` closes "
            "the letter. Where the mapping is wrong, fix it and replay again.",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
        raise typer.Exit(1)


@dlq_app.command("discard")
def discard_command(
    letter_id: Annotated[int, typer.Argument(help="Dead letter id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is discarded.")],
    target: Target = None,
    url: Url = None,
) -> None:
    """Mark a dead letter as handled without writing it."""
    if not reason.strip():
        _fail(
            "--reason is empty; say why the dead letter is discarded (it is kept "
            "with it); nothing was changed"
        )
    with _failing():
        database = _locate(target_databases(target, url), letter_id)
        outcome = DeadLetterDesk(database.engine).discard(letter_id, reason)
    _print_outcomes([outcome])


def _by_database(
    databases: list[TargetDatabase], letter_ids: list[int]
) -> list[tuple[TargetDatabase, list[int]]]:
    """The given ids grouped by the database holding each, in the order given."""
    groups: dict[str, tuple[TargetDatabase, list[int]]] = {}
    for letter_id in letter_ids:
        database = _locate(databases, letter_id)
        groups.setdefault(database.label, (database, []))[1].append(letter_id)
    return list(groups.values())


def _replay_with_progress(desk: DeadLetterDesk, ids: list[int]) -> list[ReplayOutcome]:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying dead letters", total=len(ids))
        return desk.replay(ids, progress=lambda _: progress.advance(task))


def _print_outcomes(outcomes: list[ReplayOutcome]) -> None:
    table = Table(title="dead letters")
    for column in ("id", "result", "detail"):
        table.add_column(column)
    for outcome in outcomes:
        table.add_row(
            str(outcome.letter_id), outcome.result.value, Text(outcome.message)
        )
    console.print(table)


def _fields(letter: Any) -> list[tuple[str, str]]:
    # The raw Debezium record is shown once, as raw_event; in the event it repeats.
    document = {k: v for k, v in json.loads(letter.event).items() if k != "raw"}
    event = json.dumps(document, indent=2, ensure_ascii=False)
    names = (
        "pipeline", "status", "created_at", "source_table", "target_table",
        "event_key", "source_position", "mapping_name", "mapping_path",
        "mapping_version", "error_class", "error_code", "message", "attempts",
        "discard_reason", "replayed_at", "raw_event",
    )  # fmt: skip
    rows = [(name, _value(letter, name)) for name in names]
    return [*rows, ("event", event)]


def _value(letter: Any, name: str) -> str:
    value = getattr(letter, name)
    if name == "target_table" and value is None:
        # Rows the mapping refused (bad USCC, unmapped code) never had a target row.
        return NO_TARGET_TABLE
    return "" if value is None else str(value)


@contextmanager
def _failing() -> Iterator[None]:
    """Print a bridge error as ``FAILED: ...`` and exit 1 instead of a traceback."""
    try:
        yield
    except BridgeError as exc:
        _fail(str(exc))
    except sa.exc.SQLAlchemyError as exc:
        # Connecting was checked already; this is the database refusing a statement.
        reason = " ".join(database_message(exc).split())
        _fail(f"the database refused the dead-letter query: {reason}; nothing changed")


def _fail(message: str) -> NoReturn:
    console.print(f"[red]FAILED:[/red] {escape(message)}")
    raise typer.Exit(1)
