"""The status page rendered by real headless Chromium: the charts are drawn."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import png
import pytest

from bridge.observe.http import ObserveServer
from bridge.observe.metrics import Metrics
from bridge.observe.status import MemoryStatusSource, PipelineStatus

CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed; run scripts/install-chromium",
)

T0 = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)
BLUE = (0x1F, 0x6F, 0xD1)  # first series colour: mysql_to_pg (sorted by name)
ORANGE = (0xE0, 0x70, 0x1B)  # second series colour: pg_to_mysql
BACKGROUND = (0xF4, 0xF5, 0xF7)


@pytest.fixture
def server() -> Iterator[ObserveServer]:
    source = MemoryStatusSource(now=lambda: T0)
    source.set_pipeline(PipelineStatus("pg_to_mysql", "Credit China → NECIPS",
                                       "running", 1.0, events_per_second=40.0))
    source.set_pipeline(PipelineStatus("mysql_to_pg", "NECIPS → Credit China",
                                       "running", 8.0, events_per_second=20.0))
    for second, pg_lag, mysql_lag in ((0, 1.0, 2.0), (10, 2.0, 4.0), (20, 1.0, 8.0)):
        at = T0 + timedelta(seconds=second)
        source.history.record("pg_to_mysql", at, pg_lag, 40.0)
        source.history.record("mysql_to_pg", at, mysql_lag, 20.0)
    source.set_outcomes_today({"310000": 5}, {"660000": 2})

    with ObserveServer(Metrics(), source, port=0) as running:
        yield running


def chromium(tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout


def chart_paths(dom: str, chart_id: str) -> list[tuple[str, str]]:
    svg = re.search(rf'<svg id="{chart_id}".*?</svg>', dom, re.S)
    assert svg is not None, f"no svg #{chart_id} in the DOM"
    return re.findall(r'<path class="line" data-series="(\w+)" d="([^"]+)"', svg[0])


def test_dom_holds_the_chart_paths(server: ObserveServer, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--virtual-time-budget=2000", "--dump-dom",
                   server.url + "/")

    # x from 48 to 550 over the 20 s; y from 196 (zero) up to 10 (the max * 1.1).
    assert chart_paths(dom, "lag-chart") == [
        ("mysql_to_pg", "M48.0,153.7 L299.0,111.5 L550.0,26.9"),
        ("pg_to_mysql", "M48.0,174.9 L299.0,153.7 L550.0,174.9"),
    ]
    assert chart_paths(dom, "throughput-chart") == [
        ("mysql_to_pg", "M48.0,111.5 L299.0,111.5 L550.0,111.5"),
        ("pg_to_mysql", "M48.0,26.9 L299.0,26.9 L550.0,26.9"),
    ]
    assert "pg_to_mysql (Credit China → NECIPS)" in dom
    assert "<td>660000</td><td>Xinjiang Production and Construction Corps</td>" in dom


def test_screenshot_is_not_blank_and_shows_both_lines(
    server: ObserveServer, tmp_path: Path
) -> None:
    shot = tmp_path / "status.png"

    chromium(tmp_path, "--window-size=1280,1000", "--virtual-time-budget=2000",
             f"--screenshot={shot}", server.url + "/")

    width, height, rows, _ = png.Reader(filename=str(shot)).asRGB8()
    colours: dict[tuple[int, int, int], int] = {}
    for row in rows:
        for x in range(0, width * 3, 3):
            pixel = (row[x], row[x + 1], row[x + 2])
            colours[pixel] = colours.get(pixel, 0) + 1

    assert (width, height) == (1280, 1000)
    assert colours.get(BACKGROUND, 0) < width * height * 0.8
    # Each line is 2.5 px wide and over 500 px long in two charts; the legend swatches
    # alone hold 2 x 48 pixels of each colour.
    assert colours.get(BLUE, 0) > 1000
    assert colours.get(ORANGE, 0) > 1000
