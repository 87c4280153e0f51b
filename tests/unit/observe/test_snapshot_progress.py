"""The initial snapshot's display in ``creditbridge run``: lines, end, silence."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator

import pytest
from rich.console import Console

from bridge.observe.logging import configure_logging, log_stream
from bridge.observe.progress import SnapshotReading, render_snapshot, watch_snapshot


def terminal(width: int = 40) -> Console:
    return Console(
        file=io.StringIO(), force_terminal=True, width=width, color_system=None,
        record=True,
    )


class Readings:
    """Hands out one list of readings per call, and fails when asked for more."""

    def __init__(self, *frames: list[SnapshotReading]) -> None:
        self._frames: Iterator[list[SnapshotReading]] = iter(frames)
        self.calls = 0

    def __call__(self) -> list[SnapshotReading]:
        self.calls += 1
        return next(self._frames)


def test_lines_show_rows_and_state_per_pipeline() -> None:
    console = Console(record=True, width=60, file=io.StringIO())

    console.print(
        render_snapshot(
            [
                SnapshotReading("xyzg-to-gsxt", 12345, "starting"),
                SnapshotReading("gsxt-to-xyzg", 1, "streaming"),
            ]
        )
    )

    assert console.export_text() == (
        "initial snapshot                          \n"
        "xyzg-to-gsxt  12,345 rows  starting       \n"
        "gsxt-to-xyzg        1 row  done, streaming\n"
    )


def test_display_ends_once_every_pipeline_streams() -> None:
    console = terminal()
    read = Readings(
        [SnapshotReading("p", 1, "starting"), SnapshotReading("q", 0, "starting")],
        [SnapshotReading("p", 250, "streaming"), SnapshotReading("q", 9, "starting")],
        [SnapshotReading("p", 300, "streaming"), SnapshotReading("q", 9, "streaming")],
        [SnapshotReading("p", 300, "streaming"), SnapshotReading("q", 9, "streaming")],
    )

    watch_snapshot(read, threading.Event(), console=console, interval=0)

    assert read.calls == 4
    assert console.export_text().endswith(
        "initial snapshot            \n"
        "p  300 rows  done, streaming\n"
        "q    9 rows  done, streaming\n"
    )


def test_display_ends_when_the_bridge_stops_first() -> None:
    stop = threading.Event()
    stop.set()
    read = Readings(
        [SnapshotReading("p", 5, "starting")], [SnapshotReading("p", 5, "failed")]
    )
    console = terminal()

    watch_snapshot(read, stop, console=console, interval=0)

    assert read.calls == 2
    assert console.export_text().endswith("initial snapshot \np  5 rows  failed\n")


def test_nothing_is_drawn_off_a_terminal() -> None:
    buffer = io.StringIO()
    read = Readings()

    watch_snapshot(read, threading.Event(), console=Console(file=buffer))

    assert (read.calls, buffer.getvalue()) == (0, "")


@pytest.fixture
def root_handler_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("root_handler_restored")
def test_log_lines_go_to_the_display_stream_meanwhile_then_back() -> None:
    """Pins: log lines written under a live display, which then overdraws them."""
    before, meanwhile = io.StringIO(), io.StringIO()
    configure_logging("INFO", secrets=[], stream=before)
    log = logging.getLogger("bridge.test")

    with log_stream(meanwhile):
        log.info("during the snapshot")
    log.info("after the snapshot")

    assert meanwhile.getvalue().endswith(" INFO bridge.test: during the snapshot\n")
    assert before.getvalue().endswith(" INFO bridge.test: after the snapshot\n")
    assert "during" not in before.getvalue()
