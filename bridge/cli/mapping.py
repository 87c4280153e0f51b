"""CLI commands for mapping files: ``check`` and ``preview``.

Both are thin: they find the files and the databases, call :mod:`bridge.map.check`
or :mod:`bridge.map.preview`, and print.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bridge.apply.engine import database_url
from bridge.errors import ConfigError, DevEnvError
from bridge.map import MappingFileError, load_mapping
from bridge.map.check import CheckReport, check_files
from bridge.map.codes import looks_like_id_number, mask_id_number
from bridge.map.preview import (
    Preview,
    absent_keys,
    preview_row,
    row_count,
    row_from_json,
    rows_from_db,
    unread_keys,
)
from bridge.map.schemas import LiveSchemas

log = logging.getLogger(__name__)

DEFAULT_GLOB = "mappings/*.yaml"
PG_ENV = "CREDITBRIDGE_PG_URL"
MYSQL_ENV = "CREDITBRIDGE_MYSQL_URL"

PgUrl = Annotated[
    str | None,
    typer.Option("--pg-url", help=f"PostgreSQL admin/writer URL (default ${PG_ENV})."),
]
MysqlUrl = Annotated[
    str | None,
    typer.Option("--mysql-url", help=f"MySQL admin/writer URL (default ${MYSQL_ENV})."),
]
Offline = Annotated[
    bool, typer.Option("--offline", help="Do not look at live schemas.")
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to *app*."""
    app.command("check")(check)
    app.command("preview")(preview)


def given_urls(pg_url: str | None, mysql_url: str | None) -> list[str]:
    """The URLs the user gave, as options or in the environment, read as URLs.

    Raises :class:`ConfigError` naming the option or variable of a URL the bridge
    cannot use.
    """
    given = [
        (pg_url, "--pg-url") if pg_url else (os.environ.get(PG_ENV), f"${PG_ENV}"),
        (mysql_url, "--mysql-url")
        if mysql_url
        else (os.environ.get(MYSQL_ENV), f"${MYSQL_ENV}"),
    ]
    return [
        database_url(text, where=where, then="nothing was checked").render_as_string(
            hide_password=False
        )
        for text, where in given
        if text
    ]


def database_urls(pg_url: str | None, mysql_url: str | None) -> list[str]:
    """URLs from the options, the environment, or the running dev environment.

    Raises :class:`DevEnvError` when none was given and the local demo databases
    are not running; they are never started from here.
    """
    urls = given_urls(pg_url, mysql_url)
    if urls:
        return urls
    from bridge.devenv import api

    env = api.running()
    return [env.postgres.url("admin"), env.mysql.url("admin")]


def _unreachable(schemas: LiveSchemas | None, then: str) -> None:
    """Raise one ConfigError naming every database *schemas* cannot connect to."""
    failures = schemas.unreachable() if schemas is not None else []
    if failures:
        raise ConfigError(
            "\n".join(
                failure.advice(then, f" ({_given_as(failure.url)})")
                for failure in failures
            )
        )


def _given_as(url: str) -> str:
    if url.startswith("postgresql"):
        return f"--pg-url or ${PG_ENV}"
    return f"--mysql-url or ${MYSQL_ENV}"


@contextmanager
def _live_schemas(urls: list[str]) -> Iterator[LiveSchemas | None]:
    schemas = LiveSchemas(urls) if urls else None
    try:
        yield schemas
    finally:
        if schemas is not None:
            schemas.close()


def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help=f"Mapping files (default {DEFAULT_GLOB})."),
    ] = None,
    pg_url: PgUrl = None,
    mysql_url: MysqlUrl = None,
    offline: Offline = False,
) -> None:
    """Validate mapping files and report every problem as file:line:column."""
    paths = files or sorted(Path().glob(DEFAULT_GLOB))
    if not paths:
        _fail(f"no mapping files given and none match {DEFAULT_GLOB}")
    missing = [str(path.absolute()) for path in paths if not path.is_file()]
    if missing:
        _fail(f"no mapping file at {', '.join(missing)}; nothing was checked")
    try:
        urls, why_offline = ([], None) if offline else _check_urls(pg_url, mysql_url)
        with _live_schemas(urls) as schemas:
            _unreachable(schemas, "nothing was checked")
            report = check_files(paths, schemas)
    except ConfigError as exc:
        _fail(str(exc), code=1)
    _print_report(report, why_offline)
    if not report.ok:
        raise typer.Exit(1)


def _check_urls(pg_url: str | None, mysql_url: str | None) -> tuple[list[str], str]:
    """The URLs to check against, or none and the reason ``check`` runs offline."""
    try:
        return database_urls(pg_url, mysql_url), ""
    except DevEnvError as exc:
        # Nothing was asked for: the offline check is still worth having.
        return [], str(exc)


def _print_report(report: CheckReport, why_offline: str | None) -> None:
    for finding in sorted(report.problems + report.warnings):
        typer.echo(str(finding))
    against = "against live schemas" if report.live else "without live schemas"
    verdict = _counted(len(report.problems), "problem") or "no problems"
    if report.warnings:
        verdict += f", {_counted(len(report.warnings), 'warning')}"
    typer.echo(f"{len(report.files)} mapping file(s) checked {against}: {verdict}")
    if report.warnings:
        typer.echo(
            "note: a warning is a risk check cannot rule out, not an error: the bridge "
            "starts, and a row that hits it goes to the dead-letter table"
        )
    if why_offline:
        typer.echo(
            f"note: checked offline, so column names and types were not checked: no "
            f"database URL was given and {why_offline}, or pass --pg-url and "
            "--mysql-url"
        )


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}" if count else ""


def preview(
    mapping_file: Annotated[Path, typer.Argument(help="The mapping file.")],
    row: Annotated[
        str | None, typer.Option("--row", help="A source row as a JSON object.")
    ] = None,
    from_db: Annotated[
        int | None,
        typer.Option("--from-db", help="Preview N rows of the source table."),
    ] = None,
    pg_url: PgUrl = None,
    mysql_url: MysqlUrl = None,
) -> None:
    """Show a source row, its mapped row, the reverse-mapped row and the round trip."""
    if (row is None) == (from_db is None):
        _fail("give exactly one of --row JSON or --from-db N")
    try:
        if from_db is not None:
            row_count(from_db)
        mapping = load_mapping(mapping_file)
        rows = (
            [row_from_json(row)]
            if row is not None
            else _db_rows(mapping, from_db or 0, pg_url, mysql_url)
        )
    except (MappingFileError, ConfigError, DevEnvError) as exc:
        _fail(str(exc))
    if not rows:
        typer.echo(f"{mapping.source_table} has no rows to preview")
        return
    console = Console()
    results = []
    for source in rows:
        result = preview_row(mapping, source)
        results.append(result)
        _render(console, result)
        # Only a hand-written row can have typos or gaps; a table's rows are whole.
        notes = (
            [unread_keys(mapping, source), absent_keys(mapping, source)]
            if row is not None
            else []
        )
        for note in filter(None, notes):
            console.print(escape(note), soft_wrap=True)
    faults = _preview_faults(results)
    if faults:
        typer.echo(
            f"FAILED: {_counted(len(results), 'row')} previewed: {faults}", err=True
        )
        raise typer.Exit(1)


def _preview_faults(results: Sequence[Preview]) -> str:
    """What makes ``preview`` exit 1, or "": rows the running bridge would
    dead-letter, and round trips that change a value the mapping does not explain."""
    rejected = sum(r.outcome == "rejected" for r in results)
    unreversed = sum(
        r.outcome == "mapped" and r.reversed is None and r.reason is not None
        for r in results
    )
    unexpected = sum(r.reversed is not None and not r.as_expected for r in results)
    faults = (
        (rejected, "rejected (the running bridge dead-letters such rows)"),
        (unreversed, "cannot be mapped back"),
        (unexpected, "comes back changed in a way the mapping does not explain"),
    )
    return "; ".join(f"{count} {what}" for count, what in faults if count)


def _db_rows(
    mapping: Any, limit: int, pg_url: str | None, mysql_url: str | None
) -> list[dict[str, Any]]:
    urls = database_urls(pg_url, mysql_url)
    with _live_schemas(urls) as schemas:
        _unreachable(schemas, "nothing was previewed")
        url = schemas.url_for(mapping.source_table) if schemas else None
    if url is None:
        shown = ", ".join(sa.make_url(u).render_as_string() for u in urls)
        raise ConfigError(
            f"none of the databases ({shown}) holds {mapping.source_table}; pass the "
            "URL of the one that does with --pg-url or --mysql-url"
        )
    return rows_from_db(url, mapping, limit)


def _render(console: Console, result: Preview) -> None:
    console.print(_table("source row", result.source))
    if result.outcome != "mapped":
        console.print(
            f"[bold red]{result.outcome}[/]: {escape(result.reason or '')}",
            soft_wrap=True,
        )
        return
    console.print(_table("mapped row", result.mapped))
    if result.reversed is None:
        note = result.reason or "one-way mapping: no reverse"
        console.print(escape(note), soft_wrap=True)
        return
    table = Table(title="reverse-mapped row")
    for header in ("column", "value", "original", "same"):
        table.add_column(header)
    expected = {d.column for d in result.explained if d.expected}
    for name, value in result.reversed.items():
        original = result.source.get(name, "(absent)")
        same = "yes" if name not in (result.differences or []) else "[red]no[/]"
        if name in expected:
            same = "[yellow]normalised[/]"
        table.add_row(escape(name), _shown(value), _shown(original), same)
    console.print(table)
    _print_round_trip(console, result)


def _print_round_trip(console: Console, result: Preview) -> None:
    if result.identical:
        console.print("round trip: [green]identical[/]")
        return
    differences = escape(", ".join(result.differences or []))
    if result.as_expected:
        verdict = f"round trip: [yellow]differs[/] in {differences}, as expected"
    else:
        verdict = f"round trip: [red]differs[/] in {differences}"
    console.print(verdict, soft_wrap=True)
    for difference in result.explained:
        said = "expected" if difference.expected else "[red]unexpected[/]"
        console.print(
            f"  {escape(difference.column)}: {said}: {escape(difference.why)}",
            soft_wrap=True,
        )


def _table(title: str, row: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("column")
    table.add_column("value")
    for name, value in row.items():
        table.add_row(escape(name), _shown(value))
    return table


def _shown(value: Any) -> str:
    """Console text for a value: ID numbers masked, markup characters escaped."""
    return escape(_text(value))


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str) and looks_like_id_number(value):
        return repr(mask_id_number(value))
    if isinstance(value, date):
        return f"{type(value).__name__} {value.isoformat()}"
    if isinstance(value, Decimal):
        return f"Decimal {value}"
    return repr(value)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"FAILED: {message}", err=True)
    raise typer.Exit(code)
