"""CLI commands: status (registered on the main app by :func:`register`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import sqlalchemy as sa
import typer
from rich.console import Console

from bridge.apply.engine import database_url
from bridge.errors import BridgeError, ConfigError
from bridge.observe.offline import read_database_status
from bridge.observe.overview import DEFAULT_URL, Databases, gather_status, render_status
from bridge.observe.status import StatusReport

if TYPE_CHECKING:
    from bridge.pipeline.config import RunConfig

log = logging.getLogger(__name__)

# As the demo's run configuration describes its pipelines, so that the stopped bridge
# reads like the running one.
DEV_DIRECTIONS: Final = {
    "credit_china": "NECIPS -> Credit China",
    "necips": "Credit China -> NECIPS",
}
DEV_CONFIG: Final = Path("creditbridge.yaml")
"""The run configuration ``run --dev`` uses by default: which slot each pipeline has."""


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
        data = gather_status(url, lambda: _read_databases(config))
    except BridgeError as exc:
        typer.echo(f"FAILED: no bridge answers at {url}, and {exc}", err=True)
        raise typer.Exit(code=1) from None

    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        render_status(data, Console(), url)

    if data.get("problems") and not data.get("pipelines"):
        raise typer.Exit(code=1)


def _read_databases(config: Path | None) -> StatusReport:
    """The status from the target databases, as the stopped bridge left them."""
    from bridge.pipeline.config import load_run_config

    if config is None:
        demo = _demo_config()
        return read_database_status(
            _demo_databases(), slots=_slots(demo), order=_order(demo)
        )
    run = load_run_config(config, then="nothing was read")
    return read_database_status(
        _databases(run, config), slots=_slots(run), order=_order(run)
    )


def _order(run: RunConfig | None) -> list[str]:
    return [pipeline.name for pipeline in run.pipelines] if run is not None else []


def _demo_databases() -> Databases:
    # A read-only command: it reads the demo databases only if they already run.
    from bridge.devenv.api import running

    env = running()
    urls = {"credit_china": env.postgres.url("writer"),
            "necips": env.mysql.url("writer")}
    return {name: (urls[name], DEV_DIRECTIONS[name]) for name in urls}


def _demo_config() -> RunConfig | None:
    """The run configuration ``run --dev`` starts by default, when it loads."""
    from bridge.pipeline.config import load_run_config

    if not DEV_CONFIG.exists():
        return None
    try:
        return load_run_config(DEV_CONFIG)
    except ConfigError as exc:
        log.info("cannot load %s (%s); no pipeline shows its slot retention",
                 DEV_CONFIG, exc)
        return None


def _databases(run: RunConfig, config: Path) -> Databases:
    from bridge.pipeline.config import resolve_url

    databases: dict[str, tuple[str | sa.URL, str]] = {}
    for name, database in run.databases.items():
        key = f"{config}: databases.{name}.url"
        # Name the variable or file behind the URL too: that is what to fix.
        where = f"{key} ({database.url})" if "${" in database.url else key
        url = database_url(
            resolve_url(database.url, where=key), where=where, then="nothing was read"
        )
        databases[name] = (url, _direction(run, name))
    return databases


def _direction(run: RunConfig, database: str) -> str:
    """The description the running bridge shows for the pipelines into *database*."""
    described = {p.description for p in run.pipelines if p.target == database}
    if len(described) == 1 and "" not in described:
        return described.pop()
    return f"into {database}"


def _slots(run: RunConfig | None) -> dict[str, str]:
    """Pipeline name to the replication slot its connector file names (PostgreSQL)."""
    from bridge.capture.connectors import load_connector

    slots: dict[str, str] = {}
    for pipeline in run.pipelines if run is not None else []:
        try:
            connector = load_connector(pipeline.connector)
        except ConfigError as exc:
            log.info("pipeline %s shows no slot retention: %s", pipeline.name, exc)
            continue
        slot = connector.config.get("slot.name")
        if connector.kind == "postgres" and slot:
            slots[pipeline.name] = str(slot)
    return slots
