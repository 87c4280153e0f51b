"""The status report for people, and the page's independence from the network."""

from __future__ import annotations

import io
import re
from importlib import resources

from rich.console import Console

from bridge.observe.overview import render_status
from bridge.observe.status import PROVINCES, provinces


def test_offline_report_with_slots_and_a_problem() -> None:
    buffer = io.StringIO()
    data = {
        "origin": "databases",
        "pipelines": [],
        "replication_slots": {"creditbridge_xyzg": 3 * 1024 * 1024 + 512},
        "dead_letters": [],
        "problems": ["database necips: cannot read the bridge tables (refused); "
                     "its pipelines are left out of this report"],
    }

    render_status(data, Console(file=buffer, width=100, color_system=None),
                  "http://127.0.0.1:9187")

    assert [line.rstrip() for line in buffer.getvalue().splitlines()] == [
        "bridge not answering at http://127.0.0.1:9187; read from the databases",
        "no pipeline has reported or checkpointed yet",
        "Replication slots",
        "┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┓",
        "┃ slot              ┃ WAL retained ┃",
        "┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━┩",
        "│ creditbridge_xyzg │      3.0 MiB │",
        "└───────────────────┴──────────────┘",
        "database necips: cannot read the bridge tables (refused); its pipelines are "
        "left out of this report",
    ]


def test_dead_letters_keep_their_whole_key_at_80_columns() -> None:
    """Pins: `xf_bh=XF-XY…` and every other cell cut at 80 columns; `[2024]` eaten."""
    buffer = io.StringIO()
    data = {
        "origin": "databases",
        "pipelines": [],
        "dead_letters": [
            {
                "id": 49,
                "pipeline": "xyzg-to-gsxt",
                "table": "xyzg.xyxf_jg",
                "key": "xf_bh=XF-XYZG-110000-20251201-0004",
                "error": "MappingError: PENDECNO (from cf_wsh_gf): "
                "沪浦市监处[2024]123号 is too long for VARCHAR(12) [mgMG]",
                "failed_at": "2026-12-04T17:02:19.123456+00:00",
            }
        ],
        "problems": ["database necips: cannot read 沪浦市监处[2024]123号"],
    }

    render_status(data, Console(file=buffer, width=80, color_system=None),
                  "http://127.0.0.1:9187")

    assert [line.rstrip() for line in buffer.getvalue().splitlines()] == [
        "bridge not answering at http://127.0.0.1:9187; read from the databases",
        "no pipeline has reported or checkpointed yet",
        "Dead letters, newest first",
        "id  key                                 pipeline      failed at (UTC)",
        "49  xf_bh=XF-XYZG-110000-20251201-0004  xyzg-to-gsxt  2026-12-04 17:02:19",
        "    xyzg.xyxf_jg: MappingError: PENDECNO (from cf_wsh_gf): "
        "沪浦市监处[2024]123号",
        "    is too long for VARCHAR(12) [mgMG]",
        "database necips: cannot read 沪浦市监处[2024]123号",
    ]


def test_page_loads_nothing_from_elsewhere() -> None:
    page = resources.files("bridge.observe").joinpath("status.html").read_text("utf-8")

    # The only absolute URL is the SVG namespace, which is a name, not a download.
    assert re.findall(r"https?://[^\s\"')]+", page) == ["http://www.w3.org/2000/svg"]
    assert "<link" not in page
    assert "src=" not in page


def test_reporting_units_are_31_provinces_and_the_corps() -> None:
    units = provinces(corps_code="669900")

    assert len(PROVINCES) == 31
    assert len(units) == 32
    assert units[0] == ("110000", "Beijing")
    assert units[-1] == ("669900", "Xinjiang Production and Construction Corps")
