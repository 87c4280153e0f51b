"""Progress bars for long operations: snapshot, backfill, dead-letter replay.

::

    with progress("replaying dead letters", total=len(rows)) as step:
        for row in rows:
            replay(row)
            step()

On a terminal this draws a rich progress bar; elsewhere (CI logs, pipes) it draws
nothing, and the caller's INFO log lines tell the story instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
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
