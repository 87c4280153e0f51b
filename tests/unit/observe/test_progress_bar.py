"""The progress helper: a bar on a terminal, silence elsewhere."""

from __future__ import annotations

import io
import re

from rich.console import Console

from bridge.observe.progress import progress


def terminal(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=80, color_system=None)


def test_bar_counts_steps_on_a_terminal() -> None:
    buffer = io.StringIO()

    with progress("replaying dead letters", total=3, console=terminal(buffer)) as step:
        step()
        step(2)

    final = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue()).splitlines()[-1]
    assert final.startswith("replaying dead letters ")
    assert " 3/3 100% " in final


def test_unknown_total_counts_without_percentage() -> None:
    buffer = io.StringIO()

    with progress("snapshot xyzg.xyxf_jg", console=terminal(buffer)) as step:
        step(250)

    final = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue()).splitlines()[-1]
    assert final.startswith("snapshot xyzg.xyxf_jg ")
    assert " 250 " in final
    assert "%" not in final


def test_nothing_is_drawn_off_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False)

    with progress("backfill", total=2, console=console) as step:
        step(2)

    assert buffer.getvalue() == ""
