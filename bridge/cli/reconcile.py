"""CLI command: ``creditbridge reconcile``, the daily report per province.

Exit status: 0 when every outcome changed on the day agrees (or is filtered on
purpose), 1 when some outcome is missing, differs, was rejected or applied late, 2
when the report could not be made. A cron job alerts on anything but 0.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bridge.errors import BridgeError, ConfigError, DevEnvError
from bridge.observe.status import provinces
from bridge.reconcile.calendar import is_working_day
from bridge.reconcile.compare import BEIJING
from bridge.reconcile.report import Problem, Report, report_json

if TYPE_CHECKING:
    from bridge.pipeline.config import PipelineConfig, RunConfig
    from bridge.reconcile import PipelineSides

DEV_CONFIG: Final = Path("creditbridge.yaml")
"""The run configuration read for the local demo databases, as ``run --dev`` does."""

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_COUNTS: Final = ("changed", "agree", "missing", "differs", "late", "rejected",
                  "filtered")
# Headers narrow enough for the longest name, Inner Mongolia, within 80 columns.
_HEADERS: Final = {"changed": "total"}
_PROBLEM_COUNTS: Final = frozenset({"missing", "differs", "late", "rejected"})
_SHORT_NAMES: Final = {"Xinjiang Production and Construction Corps": "Xinjiang Corps"}


def register(app: typer.Typer) -> None:
    """Add this module's command to *app*."""
    app.command("reconcile")(reconcile)


def reconcile(
    config: Annotated[
        Path | None,
        typer.Option(help="Run configuration naming the pipelines and databases; "
                     "without it creditbridge.yaml on the local demo databases."),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(help="The Beijing-time day YYYY-MM-DD, up to today (the day so "
                     "far); default yesterday."),
    ] = None,
    province: Annotated[
        str | None,
        typer.Option(help="Only this province code (GB/T 2260, or 660000)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of tables.")
    ] = False,
) -> None:
    """Outcomes changed on a day, per province and direction, against the other side.

    Lists outcomes missing there, differing, rejected (dead letters) or applied more
    than 3 working days after their change. Exits 1 when there is any, 2 when the
    report could not be made.
    """
    from bridge.reconcile import reconcile_day

    try:
        wanted = reconcile_date(day, datetime.now(BEIJING))
        covered_by_calendar(wanted)
        code = province_code(province)
        report = reconcile_day(_pipelines(config), wanted, code)
    except BridgeError as exc:
        typer.echo(f"FAILED: {exc}", err=True)
        raise typer.Exit(code=2) from None

    if as_json:
        typer.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    else:
        render_report(report, Console())
    if not report.ok:
        raise typer.Exit(code=1)


def reconcile_date(text: str | None, now: datetime) -> date:
    """``--day`` as a date up to today in Beijing; without it the day before *now*."""
    today = now.astimezone(BEIJING).date()
    if text is None:
        return today - timedelta(days=1)
    try:
        if not _DAY.match(text):
            raise ValueError("expected YYYY-MM-DD")
        wanted = date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"--day {text!r} is not a day YYYY-MM-DD ({exc}); nothing was reported"
        ) from None
    if wanted > today:
        # A cron job with a wrong date would otherwise pass on an empty report.
        raise ConfigError(
            f"--day {text} is in the future (today in Beijing is {today}); give a "
            "day up to today; nothing was reported"
        )
    return wanted


def covered_by_calendar(day: date) -> None:
    """Refuse *day* when the installed calendar cannot say which days are worked.

    Checked before reading anything: otherwise only a late outcome would find out.
    """
    try:
        is_working_day(day)
    except ConfigError as exc:
        raise ConfigError(f"--day {day}: {exc}; nothing was reported") from exc


def province_code(text: str | None) -> str | None:
    """``--province`` checked to be one of the 32 reporting units."""
    if text is None or text in dict(provinces()):
        return text
    raise ConfigError(
        f"--province {text!r} is not a province code: give one of the 31 GB/T 2260 "
        "codes from 110000 (Beijing) to 650000 (Xinjiang), or 660000 for the Corps; "
        "nothing was reported"
    )


def _pipelines(config: Path | None) -> list[PipelineSides]:
    from bridge.cli.run import existing_config
    from bridge.pipeline.config import load_run_config

    then = "nothing was reported"
    existing_config(config or DEV_CONFIG, then=then)
    if config is None:
        return _demo_pipelines(load_run_config(DEV_CONFIG, then=then))
    run = load_run_config(config, then=then)
    return [_configured(run, pipeline) for pipeline in run.pipelines]


def _demo_pipelines(run: RunConfig) -> list[PipelineSides]:
    """The demo configuration's pipelines on the running local demo databases."""
    from bridge.capture.connectors import load_connector
    from bridge.devenv.api import running
    from bridge.reconcile import PipelineSides

    try:
        env = running()
    except DevEnvError as exc:
        raise ConfigError(f"{exc}, or give --config; nothing was reported") from exc
    pipelines = []
    for pipeline in run.pipelines:
        source, target = env.postgres, env.mysql
        if load_connector(pipeline.connector).kind == "mysql":
            source, target = target, source
        pipelines.append(
            PipelineSides(
                pipeline.name,
                pipeline.description or pipeline.name,
                pipeline.mappings,
                pipeline.province_column,
                source.url("capture"),
                target.url("writer"),
                f"the local demo's {source.kind} capture account",
                f"the local demo's {target.kind} writer account",
            )
        )
    return pipelines


def _configured(run: RunConfig, pipeline: PipelineConfig) -> PipelineSides:
    """*pipeline* with the capture account of its connector file and its writer."""
    from bridge.capture.connectors import load_connector
    from bridge.pipeline.config import resolve_url
    from bridge.pipeline.runner import capture_url
    from bridge.reconcile import PipelineSides

    connector = load_connector(pipeline.connector)
    where = run.where("databases", pipeline.target, "url")
    return PipelineSides(
        pipeline.name,
        pipeline.description or pipeline.name,
        pipeline.mappings,
        pipeline.province_column,
        capture_url(connector),
        resolve_url(run.database(pipeline.target).url, where=where),
        f"the capture account of {connector.path}",
        where,
    )


def render_report(report: Report, console: Console) -> None:
    """Per direction a table of counts per province and one of the problem rows."""
    directions = list(dict.fromkeys(line.direction for line in report.lines))
    for direction in directions:
        console.print(_count_table(report, direction))
        console.print()
        problems = [p for p in report.problems if p.direction == direction]
        if problems:
            console.print(_problem_table(direction, problems))
            console.print()
    console.print(_summary(report))


def _table(title: str) -> Table:
    return Table(
        title=escape(title),
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
        show_edge=False,
    )


def _count_table(report: Report, direction: str) -> Table:
    table = _table(f"{direction}, outcomes changed on {report.day} (Beijing)")
    table.add_column("code", no_wrap=True)
    table.add_column("province", no_wrap=True)
    for name in _COUNTS:
        table.add_column(_HEADERS.get(name, name), justify="right", no_wrap=True)
    for line in report.lines:
        if line.direction == direction:
            counts = [_count(name, getattr(line, name)) for name in _COUNTS]
            name = _SHORT_NAMES.get(line.name, line.name)
            table.add_row(escape(line.province), escape(name), *counts)
    return table


def _count(name: str, value: int) -> str:
    return f"[red]{value}[/]" if value and name in _PROBLEM_COUNTS else str(value)


def _problem_table(direction: str, problems: list[Problem]) -> Table:
    table = _table(f"{direction}, to look at")
    table.add_column("code", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("what")
    for problem in problems:
        check = problem.check
        verdict = check.verdict.value + (", late" if check.late else "")
        what = [
            f"{d.column}: expected {d.expected}, found {d.found}"
            for d in check.differences
        ]
        if check.detail:
            what.append(check.detail)
        table.add_row(
            escape(check.province or ""),
            escape(check.number),
            verdict,
            escape("\n".join(what)),
        )
    return table


def _summary(report: Report) -> str:
    changed = sum(line.changed for line in report.lines)
    if not changed:
        return (
            f"{report.day}: no outcome changed on this day (Beijing time); nothing to "
            "look at; --day YYYY-MM-DD picks another day"
        )
    outcomes = "outcome" if changed == 1 else "outcomes"
    said = f"{report.day}: {changed} {outcomes} changed"
    if report.ok:
        return f"{said}; nothing to look at"
    return f"{said}; [red]{len(report.problems)} to look at[/]"
