"""``creditbridge check`` and ``preview`` through the CLI, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.errors import DevEnvError

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_check_defaults_to_the_demo_mappings_and_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)

    result = runner.invoke(app, ["check", "--offline"])

    assert result.exit_code == 0, result.output
    assert (
        result.output == "3 mapping file(s) checked without live schemas: no problems\n"
    )


def test_check_reports_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 3\nsource: {table: x}\n", encoding="utf-8")

    result = runner.invoke(app, ["check", "--offline", str(bad)])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:1:1: (file): missing required section 'columns'",
        f"{bad}:1:1: (file): missing required section 'target'",
        f"{bad}:1:1: (file): newer_wins (the default conflict policy) needs "
        "'conflict.column', the target column that orders decisions",
        f"{bad}:1:1: version: version 3 is not supported; this bridge reads 1",
        f"{bad}:2:10: source.table: table 'x' must be written schema.table with plain "
        "names",
        "1 mapping file(s) checked without live schemas: 5 problems",
    ]


def _dev_not_running() -> Any:
    raise DevEnvError(
        "the local demo databases are not running (state in /x); start them with "
        "`creditbridge dev up`"
    )


def test_check_without_urls_or_dev_databases_says_it_ran_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: a silent offline fallback that read like a live check."""
    monkeypatch.delenv("CREDITBRIDGE_PG_URL", raising=False)
    monkeypatch.delenv("CREDITBRIDGE_MYSQL_URL", raising=False)
    monkeypatch.setattr("bridge.devenv.api.running", _dev_not_running)

    result = runner.invoke(app, ["check", str(REPO / "mappings" / "xyzg_to_gsxt.yaml")])

    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "1 mapping file(s) checked without live schemas: no problems",
        "note: checked offline, so column names and types were not checked: no "
        "database URL was given and the local demo databases are not running (state "
        "in /x); start them with `creditbridge dev up`, or pass --pg-url and "
        "--mysql-url",
    ]


def test_preview_from_db_without_dev_databases_does_not_start_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: preview --from-db starting the demo databases (it used ensure_up)."""
    monkeypatch.delenv("CREDITBRIDGE_PG_URL", raising=False)
    monkeypatch.delenv("CREDITBRIDGE_MYSQL_URL", raising=False)
    monkeypatch.setattr("bridge.devenv.api.running", _dev_not_running)
    monkeypatch.setattr("bridge.devenv.api.ensure_up", _started)

    result = runner.invoke(
        app, ["preview", str(REPO / "mappings" / "xyzg_to_gsxt.yaml"), "--from-db", "1"]
    )

    assert result.exit_code == 2
    assert result.output == (
        "FAILED: the local demo databases are not running (state in /x); start them "
        "with `creditbridge dev up`\n"
    )


def _started(home: Any = None) -> Any:
    raise AssertionError("a read-only command started the demo databases")


WORKED_ROW = {
    "REPAIRNO": "XF-GSXT-520000-20240902-0042",
    "UNISCID": "92520102MA8H7LTP12",
    "ENTNAME": "贵阳市南明区李记粉面馆",
    "REPAIRTYPE": 7,
    "PENDECNO": "南市监处［2024］35号",
    "REPDECNO": None,
    "REPDECORG_CN": None,
    "REPDECORG_USCC": None,
    "REPDATE": "2024-09-02T00:00:00",
    "REPDECTIME": "2024-09-02T07:59:59.999999",
    "STOPPUBTIME": None,
    "SRCSYS": "01",
    "S_EXT_NODENUM": "520000",
}


def test_preview_shows_the_round_trip() -> None:
    mapping = REPO / "mappings" / "gsxt_to_xyzg.yaml"

    result = runner.invoke(
        app,
        ["preview", str(mapping), "--row", json.dumps(WORKED_ROW, ensure_ascii=False)],
    )

    assert result.exit_code == 0, result.output
    assert "'南市监处〔2024〕35号'" in result.output
    assert "datetime 2024-09-01T23:59:59.999999+00:00" in result.output
    assert result.output.splitlines()[-2:] == [
        "round trip: differs in PENDECNO, as expected",
        "  PENDECNO: expected: fold_decision_number (cf_wsh_gf) normalises it one way, "
        "and the reversed value maps to the same cf_wsh_gf",
    ]


def test_preview_of_a_filtered_row_says_why() -> None:
    mapping = REPO / "mappings" / "gsxt_to_xyzg.yaml"
    row = {**WORKED_ROW, "SRCSYS": "02"}

    result = runner.invoke(app, ["preview", str(mapping), "--row", json.dumps(row)])

    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == (
        "filtered: loop_guard: the outcome came from Credit China and is never sent "
        "back to it"
    )


def test_preview_needs_exactly_one_source_of_rows() -> None:
    result = runner.invoke(app, ["preview", "mappings/gsxt_to_xyzg.yaml"])

    assert result.exit_code == 2
    assert result.output == "FAILED: give exactly one of --row JSON or --from-db N\n"


def test_preview_refuses_bad_json() -> None:
    result = runner.invoke(app, ["preview", "mappings/gsxt_to_xyzg.yaml", "--row", "{"])

    assert result.exit_code == 2
    assert result.output == (
        "FAILED: --row is not valid JSON: Expecting property name enclosed in double "
        "quotes at 1\n"
    )


def test_check_with_an_unreachable_database_fails_without_the_password() -> None:
    """Pins: a PostgreSQL URL blamed for a MySQL table; rc 2 for a bad URL."""
    url = "postgresql+psycopg://u:secretpw@127.0.0.1:1/x"

    result = runner.invoke(
        app, ["check", "--pg-url", url, str(REPO / "mappings" / "xyzg_to_gsxt.yaml")]
    )

    assert result.exit_code == 1
    first, _, rest = result.output.partition("127.0.0.1:1/x as u: connection failed: ")
    assert first == "FAILED: cannot connect to postgresql+psycopg://u:***@"
    assert rest.endswith(
        "Connection refused Is the server running on that host and accepting TCP/IP "
        "connections?; check the URL and password (--pg-url or $CREDITBRIDGE_PG_URL) "
        "and that the server is running; nothing was checked\n"
    )
    assert "secretpw" not in result.output


def test_preview_of_an_empty_table_says_there_is_nothing_to_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: `preview --from-db 2` on an empty table printing nothing at all."""
    monkeypatch.setattr("bridge.cli.mapping._db_rows", lambda *args: [])

    result = runner.invoke(
        app, ["preview", str(REPO / "mappings" / "xyzg_to_gsxt.yaml"), "--from-db", "2"]
    )

    assert result.exit_code == 0
    assert result.output == "xyzg.xyxf_jg has no rows to preview\n"


def test_preview_names_a_difference_the_mapping_does_not_explain(
    tmp_path: Path,
) -> None:
    """A reverse rule that gives back the wrong value still reads as a problem."""
    path = tmp_path / "m.yaml"
    path.write_text(
        (REPO / "mappings" / "gsxt_to_xyzg.yaml")
        .read_text(encoding="utf-8")
        .replace('"01": 4\n', '"01": 3\n'),
        encoding="utf-8",
    )
    row = {**WORKED_ROW, "REPAIRTYPE": 4, "PENDECNO": "南市监处〔2024〕35号"}

    result = runner.invoke(
        app, ["preview", str(path), "--row", json.dumps(row, ensure_ascii=False)]
    )

    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-3:] == [
        "round trip: differs in REPAIRTYPE",
        "  REPAIRTYPE: unexpected: the reversed value maps to a different xf_lx; "
        "check its reverse",
        "FAILED: 1 row previewed: 1 comes back changed in a way the mapping does not "
        "explain",
    ]


def test_preview_refuses_an_impossible_date_naming_the_field() -> None:
    """Pins: `"xf_rq": "2025-13-01"` ending in a ValueError traceback."""
    row = {"xf_bh": "XF-1", "xf_rq": "2025-13-01", "xf_jdsj": "2024-06-14T24:00:00Z"}

    result = runner.invoke(
        app, ["preview", "mappings/xyzg_to_gsxt.yaml", "--row", json.dumps(row)]
    )

    assert result.exit_code == 2
    assert result.output == (
        "FAILED: --row xf_rq: '2025-13-01' is not a valid date (month must be in "
        "1..12)\n"
        "--row xf_jdsj: '2024-06-14T24:00:00Z' is not a valid date-time (hour must "
        "be in 0..23)\n"
    )


XYZG_ROW = {
    "xf_bh": "XF-GSXT-310000-20240615-0001",
    "xdr_mc": "上海禾青餐饮管理有限公司",
    "xdr_lb": "法人及非法人组织",
    "xdr_shxym": "91310115MAF5PJ963C",
    "cf_wsh_gf": "沪浦市监处〔2024〕123号",
    "xf_lx": "04",
    "jdfk_bz": True,
    "xf_jdwh": None,
    "xf_rq": "2024-06-15",
    "xf_jdsj": "2024-06-14T16:00:00Z",
    "xf_dw": None,
    "xf_dwdm": None,
    "zzgs_sj": "2024-06-14T16:00:00Z",
    "sjly": "XYZG",
    "dfbm": "310000",
}


def test_preview_names_row_keys_the_mapping_does_not_read() -> None:
    """Pins: a misspelt --row key reported only as the real column being absent."""
    row = {**XYZG_ROW, "xdr_shxymm": XYZG_ROW["xdr_shxym"], "gxsj": None}
    del row["xdr_shxym"]

    result = runner.invoke(
        app,
        [
            "preview",
            str(REPO / "mappings" / "xyzg_to_gsxt.yaml"),
            "--row",
            json.dumps(row, ensure_ascii=False),
        ],
    )

    # A rejected row is a failed preview: the running bridge would dead-letter it.
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-4:] == [
        "rejected: UNISCID (from xdr_shxym): source column xdr_shxym is absent from "
        "the event",
        "--row gives columns this mapping does not read: gxsj, xdr_shxymm (did you "
        "mean xdr_shxym?)",
        "--row lacks a column this mapping reads: xdr_shxym (one without a default: "
        "in the mapping rejects the row)",
        "FAILED: 1 row previewed: 1 rejected (the running bridge dead-letters such "
        "rows)",
    ]


def test_preview_of_a_complete_row_has_no_note_on_its_keys() -> None:
    result = runner.invoke(
        app,
        [
            "preview",
            str(REPO / "mappings" / "xyzg_to_gsxt.yaml"),
            "--row",
            json.dumps(XYZG_ROW, ensure_ascii=False),
        ],
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "round trip: identical"


@pytest.mark.parametrize("count", ["0", "-1"])
def test_preview_from_db_needs_a_positive_count(
    count: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins: 0 read as an empty table, -1 as a database rights problem."""
    monkeypatch.setattr("bridge.devenv.api.running", _started)

    result = runner.invoke(
        app, ["preview", "mappings/gsxt_to_xyzg.yaml", "--from-db", count]
    )

    assert result.exit_code == 2
    assert result.output == (
        f"FAILED: --from-db takes the number of rows to preview, 1 or more; got "
        f"{count}\n"
    )


def test_preview_fails_on_each_kind_of_fault_and_counts_them() -> None:
    from bridge.cli.mapping import _preview_faults
    from bridge.map.preview import Difference, Preview

    changed = Difference("xf_lx", expected=False, why="maps to a different xf_lx")
    normalised = Difference("cf_wsh_gf", expected=True, why="folded one way")
    results = [
        Preview({}, "rejected", "UNISCID: not a valid USCC"),
        Preview({}, "rejected", "UNISCID: not a valid USCC"),
        Preview({}, "filtered", "loop_guard"),
        Preview({}, "mapped", "no reverse rule gives xf_lx"),
        Preview({}, "mapped", reversed={}, differences=["xf_lx"], explained=[changed]),
        Preview(
            {}, "mapped", reversed={}, differences=["cf_wsh_gf"], explained=[normalised]
        ),
        Preview({}, "mapped"),
    ]

    # Filtered rows, one-way mappings and explained normalisations are no fault.
    assert _preview_faults(results[2:3] + results[5:]) == ""
    assert _preview_faults(results) == (
        "2 rejected (the running bridge dead-letters such rows); "
        "1 cannot be mapped back; "
        "1 comes back changed in a way the mapping does not explain"
    )


def test_check_of_a_file_that_is_not_there_could_not_run(tmp_path: Path) -> None:
    """Pins: exit 1 and "1 mapping file(s) checked" for a file never read."""
    there = REPO / "mappings" / "xyzg_to_gsxt.yaml"

    result = runner.invoke(
        app, ["check", "--offline", str(there), str(tmp_path / "typo.yaml")]
    )

    assert result.exit_code == 2
    assert result.output == (
        f"FAILED: no mapping file at {tmp_path}/typo.yaml; nothing was checked\n"
    )
