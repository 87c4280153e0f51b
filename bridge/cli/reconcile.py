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
from bridge.reconcile.compare import BEIJING
from bridge.reconcile.report import Problem, Report, report_json

if TYPE_CHECKING:
    from bridge.pipeline.config import PipelineConfig, RunConfig
    from bridge.reconcile import PipelineSides

DEV_CONFIG: Final = Path("creditbridge.yaml")
"""The run configuration read for the local demo databases, as ``run --dev`` does."""

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_PROVINCE = re.compile(r"\d{6}\Z")
_COUNTS: Final = ("changed", "agree", "missing", "differs", "late", "rejected",
                  "filtered")
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
        typer.Option(help="The Beijing-time day YYYY-MM-DD; default yesterday."),
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
    """``--day`` as a date; without it the Beijing day before *now*."""
    if text is None:
        return (now.astimezone(BEIJING) - timedelta(days=1)).date()
    try:
        if not _DAY.match(text):
            raise ValueError("expected YYYY-MM-DD")
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"--day {text!r} is not a day YYYY-MM-DD ({exc}); nothing was reported"
        ) from None


def province_code(text: str | None) -> str | None:
    """``--province`` checked to be a six-digit code."""
    if text is None or _PROVINCE.match(text):
        return text
    raise ConfigError(
        f"--province {text!r} is not a six-digit province code such as 110000 "
        "(660000 for the Corps); nothing was reported"
    )


def _pipelines(config: Path | None) -> list[PipelineSides]:
    from bridge.pipeline.config import load_run_config

    if config is None:
        return _demo_pipelines(load_run_config(DEV_CONFIG))
    run = load_run_config(config)
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
    from bridge.capture.connectors import load_connector, resolve_references
    from bridge.pipeline.config import resolve_url
    from bridge.pipeline.runner import capture_url
    from bridge.reconcile import PipelineSides

    connector = load_connector(pipeline.connector)
    database = {k: v for k, v in connector.config.items() if k.startswith("database.")}
    where = run.where("databases", pipeline.target, "url")
    return PipelineSides(
        pipeline.name,
        pipeline.description or pipeline.name,
        pipeline.mappings,
        pipeline.province_column,
        capture_url(connector, resolve_references(connector, database)),
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
    console.print(_summary(report), soft_wrap=True)


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
    # The one column that may wrap, so that the counts fit in 80 columns.
    table.add_column("province", min_width=12)
    for name in _COUNTS:
        table.add_column(name, justify="right", no_wrap=True)
    for line in report.lines:
        if line.direction == direction:
            counts = [_count(name, getattr(line, name)) for name in _COUNTS]
            name = _SHORT_NAMES.get(line.name, line.name)
            table.add_row(line.province, escape(name), *counts)
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
            check.province or "",
            escape(check.number),
            verdict,
            escape("\n".join(what)),
        )
    return table


def _summary(report: Report) -> str:
    changed = sum(line.changed for line in report.lines)
    if report.ok:
        return f"{report.day}: {changed} outcomes changed; nothing to look at"
    return (
        f"{report.day}: {changed} outcomes changed; [red]{len(report.problems)} to "
        "look at[/]"
    )
