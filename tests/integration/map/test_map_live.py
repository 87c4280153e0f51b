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
    with my.begin() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {SCRATCH}"))
        connection.execute(sa.text(f"CREATE DATABASE {SCRATCH}"))
        connection.execute(
            sa.text(
                f"CREATE TABLE {SCRATCH}.FLAG (ID int PRIMARY KEY, ACTIVE tinyint(1), "
                "CODE varchar(5), AMOUNT_FEN bigint unsigned, KIND tinyint)"
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
        "cb_map_test.flag has no such column",
        "flags.yaml:8:10: columns.CODE.from: source column code is VARCHAR(20), "
        "longer than CODE VARCHAR(5); longer values would be refused by the target "
        "database",
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
    assert (
        result.output == "3 mapping file(s) checked against live schemas: no problems\n"
    )


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
