"""``check`` and ``preview`` against the live demo databases.

Scratch tables live in the PostgreSQL schema / MySQL database ``cb_map_test``,
dropped at the end. The demo tables are only inspected, never written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.map.check import check_files
from bridge.map.schemas import LiveSchemas

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[3]
SCRATCH = "cb_map_test"
runner = CliRunner()


@pytest.fixture(scope="module")
def dev_env() -> Any:
    from bridge.devenv.api import ensure_up

    return ensure_up()


@pytest.fixture(scope="module")
def schemas(dev_env: Any, scratch: str) -> Iterator[LiveSchemas]:
    live = LiveSchemas([dev_env.postgres.url("admin"), dev_env.mysql.url("admin")])
    yield live
    live.close()


@pytest.fixture(scope="module")
def scratch(dev_env: Any) -> Iterator[str]:
    """A PostgreSQL table with three flags rows (CASES C07) and a MySQL target."""
    pg = sa.create_engine(dev_env.postgres.url("admin"))
    my = sa.create_engine(dev_env.mysql.url("admin"))
    with pg.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {SCRATCH}"))
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.flag (id int PRIMARY KEY, active boolean, "
                "code varchar(20), amount numeric(24,6), "
                "kind char(2) CHECK (kind IN ('01', '02', '03')))"
            )
        )
        connection.execute(
            sa.text(
                f"INSERT INTO {SCRATCH}.flag VALUES (1, true, 'ok', 1.500000, '01')"
            )
        )
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.filled (id int PRIMARY KEY, "
                "seq serial, ident int GENERATED ALWAYS AS IDENTITY, "
                "doubled int NOT NULL GENERATED ALWAYS AS (id * 2) STORED, "
                "made timestamptz NOT NULL DEFAULT now(), "
                "origin varchar(8) NOT NULL, gone timestamptz NOT NULL, "
                "note text NOT NULL, kind int NOT NULL, spare text)"
            )
        )
    with my.begin() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {SCRATCH}"))
        connection.execute(sa.text(f"CREATE DATABASE {SCRATCH}"))
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.FLAG (ID int PRIMARY KEY, ACTIVE tinyint(1), "
                "CODE varchar(5), AMOUNT_FEN bigint unsigned, KIND tinyint)"
            )
        )
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.FILLED (SEQ int AUTO_INCREMENT PRIMARY KEY, "
                "ID int NOT NULL UNIQUE, "
                "DOUBLED int GENERATED ALWAYS AS (ID * 2) STORED NOT NULL, "
                "MADE datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
                "ORIGIN varchar(8) NOT NULL, GONE datetime(6) NOT NULL, "
                "NOTE text NOT NULL, KIND tinyint NOT NULL, SPARE text)"
            )
        )
    yield SCRATCH
    with pg.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE"))
    with my.begin() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {SCRATCH}"))
    pg.dispose()
    my.dispose()


FLAGS = dedent(
    """\
    version: 1
    direction: two_way
    source: {table: cb_map_test.flag}
    target: {table: cb_map_test.FLAG, key: [ID]}
    columns:
      ID: {from: id}
      ACTIVE: {from: active, transforms: [int_from_bool]}
      CODE: {from: code}
      AMOUNT_FEN: {from: amount, transforms: [{scale: {from: 万元, to: fen}}]}
      KIND: {from: kind, transforms: [{map: {values: {"01": 1, "02": 2}}}]}
    conflict: {policy: source_wins}
    """
)


def test_demo_mappings_fit_the_live_schemas(schemas: LiveSchemas) -> None:
    report = check_files(sorted((REPO / "mappings").glob("*.yaml")), schemas)

    assert report.live
    assert [str(p) for p in report.problems] == []


def test_live_check_finds_lengths_and_uncovered_check_values(
    tmp_path: Path, scratch: str, schemas: LiveSchemas
) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS.replace("{from: id}", "{from: idd}"), encoding="utf-8")

    report = check_files([path], schemas)

    assert [str(p).replace(str(path), "flags.yaml") for p in report.problems] == [
        "flags.yaml:6:8: columns.ID.from: unknown source column idd; "
        "cb_map_test.flag has no such column (did you mean id?)",
        "flags.yaml:8:10: columns.CODE.from: source column code is VARCHAR(20), "
        "longer than CODE VARCHAR(5); longer values would be refused by the target "
        "database",
        "flags.yaml:10:35: columns.KIND.transforms[0]: the value map does not cover "
        "'03' of kind's possible values; map them or give a default",
    ]


def test_live_check_finds_lengths_through_transforms_that_keep_text_long(
    tmp_path: Path, scratch: str, schemas: LiveSchemas
) -> None:
    """Pins: any transform on a column silenced its length check."""
    path = tmp_path / "flags.yaml"
    path.write_text(
        FLAGS.replace("{from: code}", "{from: code, transforms: [trim, upper]}"),
        encoding="utf-8",
    )

    report = check_files([path], schemas)

    assert [str(p).replace(str(path), "flags.yaml") for p in report.problems] == [
        "flags.yaml:8:10: columns.CODE.from: source column code is VARCHAR(20), "
        "longer than CODE VARCHAR(5) even after trim, upper; longer values would be "
        "refused by the target database",
        "flags.yaml:10:35: columns.KIND.transforms[0]: the value map does not cover "
        "'03' of kind's possible values; map them or give a default",
    ]


def test_check_cli_reads_the_live_schemas(dev_env: Any) -> None:
    result = runner.invoke(
        app,
        [
            "check",
            "--pg-url",
            dev_env.postgres.url("admin"),
            "--mysql-url",
            dev_env.mysql.url("admin"),
            *[str(p) for p in sorted((REPO / "mappings").glob("*.yaml"))],
        ],
    )

    assert result.exit_code == 0, result.output
    demo = REPO / "mappings" / "xyzg_to_gsxt.yaml"
    assert result.output.splitlines() == [
        f"{demo}:30:13: columns.ENTNAME.from: warning: source column xdr_mc is TEXT, "
        "with no length limit, but ENTNAME is VARCHAR(200); a value longer than 200 "
        "characters would be refused by the target database and its row sent to the "
        "dead-letter table",
        f"{demo}:41:14: columns.PENDECNO.from: warning: source column cf_wsh_gf is "
        "TEXT, with no length limit even after fold_decision_number, but PENDECNO is "
        "VARCHAR(100); a value longer than 100 characters would be refused by the "
        "target database and its row sent to the dead-letter table",
        f"{demo}:42:19: columns.PENDECNO_NORM.from: warning: source column cf_wsh_gf "
        "is TEXT, with no length limit even after fold_decision_number, but "
        "PENDECNO_NORM is VARCHAR(100); a value longer than 100 characters would be "
        "refused by the target database and its row sent to the dead-letter table",
        f"{demo}:43:14: columns.REPDECNO.from: warning: source column xf_jdwh is "
        "TEXT, with no length limit, but REPDECNO is VARCHAR(100); a value longer "
        "than 100 characters would be refused by the target database and its row "
        "sent to the dead-letter table",
        f"{demo}:44:18: columns.REPDECORG_CN.from: warning: source column xf_dw is "
        "TEXT, with no length limit, but REPDECORG_CN is VARCHAR(200); a value "
        "longer than 200 characters would be refused by the target database and its "
        "row sent to the dead-letter table",
        "3 mapping file(s) checked against live schemas: no problems, 5 warnings",
        "note: a warning is a risk check cannot rule out, not an error: the bridge "
        "starts, and a row that hits it goes to the dead-letter table",
    ]


def _demo_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "mappings" / "xyzg_to_gsxt.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "copy.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _found(report: Any, path: Path) -> list[str]:
    return [str(p).replace(str(path), "copy.yaml") for p in report.problems]


def test_live_check_reports_a_misspelt_name_in_a_two_way_expression(
    tmp_path: Path, schemas: LiveSchemas
) -> None:
    """Pins: `jdfk_bzz` reported as a two-way column without a way back."""
    path = _demo_copy(tmp_path, "5 if jdfk_bz else 6", "5 if jdfk_bzz else 6")

    report = check_files([path], schemas)

    assert _found(report, path) == [
        "copy.yaml:31:3: columns.REPAIRTYPE: unknown source column jdfk_bzz; "
        "xyzg.xyxf_jg has no such column (did you mean jdfk_bz?)"
    ]


def test_live_check_reports_a_bad_expression_once(
    tmp_path: Path, schemas: LiveSchemas
) -> None:
    """Pins: reverse rules reading REPAIRTYPE reported after its expression failed."""
    path = _demo_copy(tmp_path, "5 if jdfk_bz else 6", "5 if jdfk_bz els 6")

    report = check_files([path], schemas)

    assert _found(report, path) == [
        "copy.yaml:39:20: columns.REPAIRTYPE.transforms[0].map.values.04.expr: '5 if "
        "jdfk_bz els 6' is not a valid expression: expected 'else' after 'if' "
        "expression"
    ]


def test_live_check_warns_of_text_into_a_short_column(
    tmp_path: Path, schemas: LiveSchemas
) -> None:
    """Pins: TEXT -> CHAR(6) passing silently while VARCHAR(40) -> CHAR(6) fails."""
    path = _demo_copy(
        tmp_path, "S_EXT_NODENUM: {from: dfbm}", "S_EXT_NODENUM: {from: xdr_mc}"
    )

    report = check_files([path], schemas)

    assert report.ok
    assert str(report.warnings[-1]).replace(str(path), "copy.yaml") == (
        "copy.yaml:53:19: columns.S_EXT_NODENUM.from: warning: source column xdr_mc "
        "is TEXT, with no length limit, but S_EXT_NODENUM is CHAR(6); a value longer "
        "than 6 characters would be refused by the target database and its row sent "
        "to the dead-letter table"
    )
    bounded = _demo_copy(
        tmp_path, "S_EXT_NODENUM: {from: dfbm}", "S_EXT_NODENUM: {from: xf_bh}"
    )
    assert _found(check_files([bounded], schemas), bounded) == [
        "copy.yaml:53:19: columns.S_EXT_NODENUM.from: source column xf_bh is "
        "VARCHAR(40), longer than S_EXT_NODENUM CHAR(6); longer values would be "
        "refused by the target database"
    ]


def test_live_check_reports_an_unmapped_not_null_column(
    tmp_path: Path, schemas: LiveSchemas
) -> None:
    """Pins: REPAIRTYPE (NOT NULL, no default) unmapped passing check, failing run."""
    text = (REPO / "mappings" / "xyzg_to_gsxt.yaml").read_text(encoding="utf-8")
    head, rest = text.split("columns:\n", 1)
    tail = rest[rest.index("on_delete:") :]
    path = tmp_path / "copy.yaml"
    path.write_text(
        head.replace("direction: two_way", "direction: one_way")
        + "columns:\n"
        + "  REPAIRNO: {from: xf_bh}\n"
        + "  UNISCID: {from: xdr_shxym, transforms: [uscc, required]}\n"
        + "  ENTNAME: {from: xdr_mc}\n"
        + "  STOPPUBTIME: {from: zzgs_sj, transforms: [utc_to_local]}\n"
        + tail.replace(
            "{policy: newer_wins, column: REPDECTIME}", "{policy: source_wins}"
        ),
        encoding="utf-8",
    )

    report = check_files([path], schemas)

    assert _found(report, path) == [
        "copy.yaml:27:1: columns: target column REPAIRTYPE is NOT NULL and has no "
        "default, but no column of this mapping writes it, so the target database "
        "would refuse every row; map it or give the column a default"
    ]


@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["postgresql", "mysql"])
def test_live_check_counts_columns_the_database_or_apply_stage_fills(
    tmp_path: Path, scratch: str, schemas: LiveSchemas, case: Any
) -> None:
    """Identity, auto-increment, generated and default columns need no mapping, nor
    metadata and soft-delete columns; each other NOT NULL column is named."""
    id_, gone, origin = case("id"), case("gone"), case("origin")
    path = tmp_path / "filled.yaml"
    path.write_text(
        dedent(
            f"""\
            version: 1
            source: {{table: cb_map_test.flag}}
            target: {{table: cb_map_test.{case("filled")}, key: [{id_}]}}
            columns:
              {id_}: {{from: id}}
            conflict: {{policy: source_wins}}
            on_delete: {{policy: soft_delete, column: {gone}}}
            metadata: {{origin: {origin}, origin_value: T}}
            """
        ),
        encoding="utf-8",
    )

    report = check_files([path], schemas)

    assert _found(report, path) == [
        f"copy.yaml:4:1: columns: target column {case(name)} is NOT NULL and has no "
        "default, but no column of this mapping writes it, so the target database "
        "would refuse every row; map it or give the column a default"
        for name in ("kind", "note")
    ]


def test_preview_from_db_reads_source_rows(
    tmp_path: Path, scratch: str, dev_env: Any
) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS, encoding="utf-8")

    result = runner.invoke(
        app,
        [
            "preview",
            str(path),
            "--from-db",
            "5",
            "--pg-url",
            dev_env.postgres.url("admin"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "Decimal 1.500000" in result.output
    assert "1500000" in result.output
    assert result.output.splitlines()[-1] == "round trip: identical"


def test_preview_row_json_decimal_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS, encoding="utf-8")
    row = {"id": 1, "active": True, "code": "ok", "amount": 1.5, "kind": "01"}

    result = runner.invoke(app, ["preview", str(path), "--row", json.dumps(row)])

    assert result.exit_code == 0, result.output
    assert "Decimal 1.5\n" in result.output.replace(" │", "\n")
    assert result.output.splitlines()[-1] == "round trip: identical"
