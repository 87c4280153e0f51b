"""Progress bars for long operations: snapshot, backfill, dead-letter replay.

::

    with progress("replaying dead letters", total=len(rows)) as step:
        for row in rows:
            replay(row)
            step()

On a terminal this draws a rich progress bar; elsewhere (CI logs, pipes) it draws
nothing, and the caller's INFO log lines tell the story instead.

:func:`watch_snapshot` does the same for ``creditbridge run``'s initial snapshot: one
line per pipeline with the rows snapshotted so far, until every pipeline streams.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bridge.observe.logging import log_stream


def _columns(total: int | None) -> list[ProgressColumn]:
    columns: list[ProgressColumn] = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total is not None else TextColumn("{task.completed}"),
    ]
    if total is not None:
        columns += [TaskProgressColumn(), TimeRemainingColumn()]
    columns.append(TimeElapsedColumn())
    return columns


@contextmanager
def progress(
    description: str, total: int | None = None, *, console: Console | None = None
) -> Iterator[Callable[..., None]]:
    """Yield ``step(n=1)``, which advances the bar by *n* units of work.

    *total* ``None`` means the amount is not known in advance (a snapshot of a table
    whose row count is an estimate); the bar then counts without a percentage.
    """
    console = console or Console(stderr=True)
    bar = Progress(
        *_columns(total),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )

    with bar:
        task = bar.add_task(description, total=total)

        def step(n: int = 1) -> None:
            bar.advance(task, n)

        yield step


STREAMING = "streaming"


@dataclass(frozen=True, slots=True)
class SnapshotReading:
    """One pipeline's initial snapshot so far: rows applied and its capture state."""

    pipeline: str
    rows: int
    state: str


def render_snapshot(readings: Sequence[SnapshotReading]) -> Table:
    """One ``pipeline  rows  state`` line each, under an ``initial snapshot`` title."""
    table = Table.grid(padding=(0, 2))
    table.title = "initial snapshot"
    table.title_justify = "left"
    table.add_column()
    table.add_column(justify="right")
    table.add_column()
    for reading in readings:
        done = "done, " if reading.state == STREAMING else ""
        unit = "row" if reading.rows == 1 else "rows"
        table.add_row(
            reading.pipeline, f"{reading.rows:,} {unit}", f"{done}{reading.state}"
        )
    return table


def watch_snapshot(
    read: Callable[[], Sequence[SnapshotReading]],
    stop: threading.Event,
    *,
    console: Console | None = None,
    interval: float = 0.25,
) -> None:
    """Show *read*'s readings until every pipeline streams or *stop* is set.

    Draws only on a terminal; elsewhere it returns at once (the batch log lines say
    how the snapshot goes). Blocks: run it in a thread of its own.
    """
    console = console or Console(stderr=True)
    if not console.is_terminal:
        return

    readings = read()
    with Live(
        render_snapshot(readings),
        console=console,
        auto_refresh=False,
        redirect_stderr=True,
    ) as live, log_stream(sys.stderr):
        while not _all_streaming(readings) and not stop.wait(interval):
            readings = read()
            live.update(render_snapshot(readings), refresh=True)
        live.update(render_snapshot(read()), refresh=True)


def _all_streaming(readings: Sequence[SnapshotReading]) -> bool:
    return bool(readings) and all(r.state == STREAMING for r in readings)
