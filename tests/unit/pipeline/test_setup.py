"""creditbridge setup: the SQL a DBA runs for the demo run configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.pipeline.config import load_run_config
from bridge.pipeline.setup import render, setup_scripts

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(
        "CREDITBRIDGE_PG_WRITER_URL", "postgresql+psycopg://pg_writer:pw@db/cc"
    )
    monkeypatch.setenv(
        "CREDITBRIDGE_MYSQL_WRITER_URL", "mysql+pymysql://my_writer:pw@db/gsxt"
    )
    return render(setup_scripts(load_run_config(ROOT / "creditbridge.yaml")))


def test_postgres_source_gets_publication_replica_identity_and_capture_rights(
    scripts: str,
) -> None:
    section = scripts.split("\n\n", maxsplit=1)[0].splitlines()
    assert section[0] == (
        "-- pipeline xyzg-to-gsxt: on the SOURCE database of "
        "credit-china-outcomes.json (postgres), as an administrator"
    )
    assert section[7:] == [
        "ALTER ROLE cb_capture WITH LOGIN REPLICATION;",
        "GRANT USAGE ON SCHEMA bridge, xyzg TO cb_capture;",
        "ALTER TABLE xyzg.xyxf_jg REPLICA IDENTITY FULL;",
        "GRANT SELECT ON xyzg.xyxf_jg TO cb_capture;",
        "GRANT SELECT, INSERT, UPDATE ON bridge.heartbeat TO cb_capture;",
        "CREATE PUBLICATION creditbridge_pub FOR TABLE xyzg.xyxf_jg, "
        "bridge.heartbeat;",
    ]


def test_mysql_target_grants_the_writer_only_staging_and_bridge_tables(
    scripts: str,
) -> None:
    grants = [
        line
        for line in scripts.split("\n\n")[1].splitlines()
        if line.startswith("GRANT")
    ]
    assert grants == [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO 'my_writer'@'%';"
        for table in (
            "gsxt.E_CR_REPAIR_XYZG",
            "bridge.checkpoint",
            "bridge.conflict",
            "bridge.dead_letter",
            "bridge.kafka_offset",
            "bridge.pending_event",
        )
    ]


def test_postgres_target_creates_bridge_tables_if_missing(scripts: str) -> None:
    section = scripts.split("\n\n")[3]
    assert section.splitlines()[0] == (
        "-- pipeline gsxt-to-xyzg: on the TARGET database 'credit_china' "
        "(postgres), as an administrator"
    )
    assert "CREATE TABLE IF NOT EXISTS bridge.checkpoint (" in section
    assert section.splitlines()[-1] == (
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA bridge TO pg_writer;"
    )


def test_unset_writer_urls_give_a_placeholder_and_say_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: cb_capture named but `<writer account>` left unexplained."""
    for name in ("CREDITBRIDGE_PG_WRITER_URL", "CREDITBRIDGE_MYSQL_WRITER_URL"):
        monkeypatch.delenv(name, raising=False)

    sections = render(setup_scripts(load_run_config(ROOT / "creditbridge.yaml")))
    target = sections.split("\n\n")[1].splitlines()

    assert target[:4] == [
        "-- pipeline xyzg-to-gsxt: on the TARGET database 'necips' (mysql), as an "
        "administrator",
        "-- <writer account> stands for the account of databases.necips.url, "
        "${env:CREDITBRIDGE_MYSQL_WRITER_URL},",
        "-- which cannot be resolved here: set what it refers to and run setup",
        "-- again, or write the account's name in place of the placeholder.",
    ]
    assert target[-1] == (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON bridge.pending_event TO "
        "'<writer account>'@'%';"
    )


def test_the_capture_account_is_the_connector_files_and_a_placeholder_if_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CB_TEST_CAPTURE_USER", raising=False)
    connector = tmp_path / "necips.json"
    shipped = (ROOT / "connectors/necips-outcomes.json").read_text(encoding="utf-8")
    connector.write_text(
        shipped.replace('"cb_capture"', '"${env:CB_TEST_CAPTURE_USER}"'),
        encoding="utf-8",
    )
    run = (ROOT / "creditbridge.yaml").read_text(encoding="utf-8")
    config = tmp_path / "run.yaml"
    config.write_text(
        run.replace("connectors/necips-outcomes.json", str(connector))
        .replace("connectors/", f"{ROOT}/connectors/")
        .replace("[mappings/", f"[{ROOT}/mappings/"),
        encoding="utf-8",
    )

    source = render(setup_scripts(load_run_config(config))).split("\n\n")[2]

    assert source.splitlines()[1:4] == [
        "-- <capture account> stands for the account of necips.json: "
        "config.database.user, ${env:CB_TEST_CAPTURE_USER},",
        "-- which cannot be resolved here: set what it refers to and run setup",
        "-- again, or write the account's name in place of the placeholder.",
    ]
    assert source.splitlines()[-1] == (
        "GRANT SELECT, INSERT, UPDATE ON bridge.heartbeat TO '<capture account>'@'%';"
    )
    monkeypatch.setenv("CB_TEST_CAPTURE_USER", "my_capture")
    named = render(setup_scripts(load_run_config(config))).split("\n\n")[2]
    assert named.splitlines()[-1] == (
        "GRANT SELECT, INSERT, UPDATE ON bridge.heartbeat TO 'my_capture'@'%';"
    )
