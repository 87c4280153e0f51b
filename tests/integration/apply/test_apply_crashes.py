"""Exactly once on top of at-least-once: SIGKILL at every step of a batch (C08)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bridge.apply.faults import FAULT_VARIABLE, STEPS
from bridge.apply.schema import dead_letter
from bridge.checkpoint import read_checkpoint

pytestmark = pytest.mark.db

AUDIT_COUNTS = "SELECT id, count(*) FROM cb_apply_test.audit GROUP BY id ORDER BY id"
HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def run_child(
    engine: Engine, pipeline: str, table: str, name: str, fault: str | None
) -> int:
    env = {key: value for key, value in os.environ.items() if key != FAULT_VARIABLE}
    if fault is not None:
        env[FAULT_VARIABLE] = fault
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT)])
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, str(HERE / "fault_child.py"), url, pipeline, table, name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


@pytest.fixture
def audited(engine: Engine, make_table: Any) -> str:
    """``t(id, code varchar(5))`` whose every insert and update is counted."""
    table: str = make_table("t", "id int primary key, code varchar(5)")
    audit: str = make_table("audit", "id int, op varchar(10)")
    statements = {
        "postgresql": [
            "CREATE OR REPLACE FUNCTION cb_apply_test.count_write() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {audit} VALUES (NEW.id, TG_OP); RETURN NEW; END $$",
            f"CREATE TRIGGER count_write AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cb_apply_test.count_write()",
        ],
        "mysql": [
            f"CREATE TRIGGER cb_apply_test.count_insert AFTER INSERT ON {table} "
            f"FOR EACH ROW INSERT INTO {audit} VALUES (NEW.id, 'INSERT')",
            f"CREATE TRIGGER cb_apply_test.count_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW INSERT INTO {audit} VALUES (NEW.id, 'UPDATE')",
        ],
    }[engine.dialect.name]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    return table


def observed(engine: Engine, pipeline: str, table: str) -> dict[str, Any]:
    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)
        return {
            "rows": [
                tuple(r)
                for r in connection.execute(
                    sa.text(f"SELECT * FROM {table} ORDER BY id")
                )
            ],
            "writes": [tuple(r) for r in connection.execute(sa.text(AUDIT_COUNTS))],
            "dead_letters": [
                tuple(r)
                for r in connection.execute(
                    sa.select(dead_letter.c.event_key, dead_letter.c.error_class)
                    .where(dead_letter.c.pipeline == pipeline)
                    .order_by(dead_letter.c.event_key)
                )
            ],
            "checkpoint": None if stored is None else stored.order,
        }


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_any_step_then_redelivery_applies_everything_exactly_once(
    engine: Engine, pipeline: str, audited: str, step: str
) -> None:
    # Pins: a crash between rows, dead letters and checkpoint must neither lose a row
    # nor apply one twice nor write a second dead letter after redelivery.
    assert run_child(engine, pipeline, audited, "mixed", step) == -signal.SIGKILL

    assert run_child(engine, pipeline, audited, "mixed", None) == 0

    assert observed(engine, pipeline, audited) == {
        "rows": [(1, "a"), (2, "b"), (4, "d"), (5, "e")],
        "writes": [(1, 1), (2, 1), (4, 1), (5, 1)],
        "dead_letters": [
            ('{"id": 3}', _too_long(engine)),
            ('{"id": 7}', "MappingError"),
        ],
        "checkpoint": (20, 8, 0),
    }


def test_c08_crash_after_the_first_of_three_events_sharing_an_lsn(
    engine: Engine, pipeline: str, audited: str
) -> None:
    assert (
        run_child(engine, pipeline, audited, "lsn-first", "after_commit")
        == -signal.SIGKILL
    )

    assert run_child(engine, pipeline, audited, "lsn-all", None) == 0

    state = observed(engine, pipeline, audited)
    assert state["rows"] == [(10, "c"), (11, "c"), (12, "c")]
    assert state["writes"] == [(10, 1), (11, 1), (12, 1)]
    assert state["checkpoint"] == (30, 30, 2)


def _too_long(engine: Engine) -> str:
    return (
        "StringDataRightTruncation"
        if engine.dialect.name == "postgresql"
        else "DataError"
    )
