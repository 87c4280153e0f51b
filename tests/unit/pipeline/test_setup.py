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
