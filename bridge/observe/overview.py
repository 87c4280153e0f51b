"""``creditbridge status``: ask the running bridge, else read its tables; show it.

Both ways produce the ``/api/status`` JSON shape, so one renderer serves both and
``--json`` prints the same document whether the bridge runs or not.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Final

import sqlalchemy as sa
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from bridge.observe.listing import listing
from bridge.observe.status import StatusReport

logger = logging.getLogger(__name__)

DEFAULT_URL: Final = "http://127.0.0.1:9187"
ASK_TIMEOUT_SECONDS: Final = 3.0

Databases = Mapping[str, tuple[str | sa.URL, str]]
"""Database name to ``(SQLAlchemy URL, direction of the pipelines it receives)``."""


def ask_bridge(url: str, timeout: float = ASK_TIMEOUT_SECONDS) -> dict[str, Any] | None:
    """The running bridge's ``/api/status``, or None when nothing answers at *url*."""
    try:
        with urllib.request.urlopen(f"{url}/api/status", timeout=timeout) as response:
            data: dict[str, Any] = json.load(response)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        logger.info("no bridge answering at %s (%s); reading the databases", url, exc)
        return None
    return data


def gather_status(
    url: str, read_databases: Callable[[], StatusReport]
) -> dict[str, Any]:
    """Status from the bridge at *url*, or what *read_databases* reads instead.

    *read_databases* (:func:`bridge.observe.offline.read_database_status` on the
    target databases) is called only when the bridge does not answer, so a running
    bridge is asked without touching any database.
    """
    answer = ask_bridge(url)
    if answer is not None:
        return answer
    return read_databases().to_json_dict()


def render_status(data: Mapping[str, Any], console: Console, url: str) -> None:
    """Print the status as tables for people."""
    if data.get("origin") == "databases":
        console.print(Text(f"bridge not answering at {url}; read from the databases"))
    else:
        console.print(Text(f"running bridge at {url}"))

    pipelines = data.get("pipelines") or []
    if pipelines:
        console.print(_pipeline_table(pipelines))
    else:
        console.print("no pipeline has reported or checkpointed yet")
    slots = data.get("replication_slots") or {}
    if slots:
        console.print(_slot_table(slots))
    letters = data.get("dead_letters") or []
    if letters:
        console.print(_dead_letter_table(letters))
    for problem in data.get("problems") or []:
        console.print(Text(str(problem), style="yellow"))


def _pipeline_table(pipelines: list[dict[str, Any]]) -> Table:
    # One column per pipeline: two directions fit an 80-column terminal this way.
    table = Table(title="Pipelines", title_justify="left")
    table.add_column("")
    for pipeline in pipelines:
        table.add_column(Text(pipeline["name"]), overflow="fold")  # GTIDs are long

    fields: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("direction", lambda p: str(p["direction"])),
        ("state", lambda p: str(p["state"])),
        ("lag", lambda p: _unit(p.get("lag_seconds"), "s")),
        ("throughput", lambda p: _unit(p.get("events_per_second"), "events/s")),
        ("last applied position", lambda p: p.get("last_position") or "-"),
        ("last applied at (UTC)", lambda p: _moment(p.get("last_applied_at"))),
        ("dead letters", lambda p: str(p.get("dead_letters", 0))),
        ("slot retention", lambda p: _bytes(p.get("slot_retained_bytes"))),
    ]
    for label, show in fields:
        table.add_row(label, *[Text(show(pipeline)) for pipeline in pipelines])
    return table


def _slot_table(slots: Mapping[str, int]) -> Table:
    table = Table(title="Replication slots", title_justify="left")
    table.add_column("slot")
    table.add_column("WAL retained", justify="right")
    for slot, retained in sorted(slots.items()):
        table.add_row(Text(slot), _bytes(retained))
    return table


def _dead_letter_table(letters: list[dict[str, Any]]) -> Group:
    """Whole keys on one line each, the table and error folded below at any width."""
    items = [
        (
            [str(letter["id"]), letter["key"], letter["pipeline"],
             _moment(letter["failed_at"])],
            f"{letter['table']}: {letter['error']}",
        )
        for letter in letters
    ]
    headers = ["id", "key", "pipeline", "failed at (UTC)"]
    return listing("Dead letters, newest first", headers, items)


def _unit(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


def _moment(value: str | None) -> str:
    return "-" if not value else value[:19].replace("T", " ")


def _bytes(value: int | None) -> str:
    if value is None:
        return "-"
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    size, unit = float(value), 0
    while size >= 1024 and unit < len(units) - 1:
        size, unit = size / 1024, unit + 1
    return f"{value} B" if unit == 0 else f"{size:.1f} {units[unit]}"
