"""A transaction whose tail is held survives SIGKILL at every step of every batch,
on both targets: never visible half-applied, nothing lost, nothing applied twice;
and events an earlier version stored in bridge.pending_event are applied first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from apply_events import upsert
from sqlalchemy.engine import Engine

from bridge.apply.eventjson import event_to_json
from bridge.apply.faults import FAULT_VARIABLE, STEPS
from bridge.apply.schema import pending_event
from bridge.checkpoint import read_checkpoint

pytestmark = pytest.mark.db

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
ROWS = [(key, f"c{key}") for key in range(1, 10)]


def run_child(
    engine: Engine,
    pipeline: str,
    table: str,
    *,
    first: int,
    crash: int,
    step: str,
    max_held: int | None = None,
) -> int:
    env = {key: value for key, value in os.environ.items() if key != FAULT_VARIABLE}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT)])
    url = engine.url.render_as_string(hide_password=False)
    arguments = [url, pipeline, table, str(first), str(crash), step]
    if max_held is not None:
        arguments.append(str(max_held))
    done = subprocess.run(
        [sys.executable, str(HERE / "pending_child.py"), *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


@pytest.fixture
def audited(engine: Engine, make_table: object) -> str:
    """``held_t(id, code)`` whose every insert and update is counted in held_audit."""
    table: str = make_table("held_t", "id int primary key, code varchar(5)")  # type: ignore[operator]
    audit: str = make_table("held_audit", "id int")  # type: ignore[operator]
    statements = {
        "postgresql": [
            "CREATE OR REPLACE FUNCTION cb_apply_test.count_held() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {audit} VALUES (NEW.id); RETURN NEW; END $$",
            f"CREATE TRIGGER count_held AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cb_apply_test.count_held()",
        ],
        "mysql": [
            f"CREATE TRIGGER cb_apply_test.held_insert AFTER INSERT ON {table} "
            f"FOR EACH ROW INSERT INTO {audit} VALUES (NEW.id)",
            f"CREATE TRIGGER cb_apply_test.held_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW INSERT INTO {audit} VALUES (NEW.id)",
        ],
    }[engine.dialect.name]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    return table


@pytest.fixture
def held_pipeline(engine: Engine, pipeline: str) -> Iterator[str]:
    yield pipeline
    with engine.begin() as connection:
        connection.execute(
            pending_event.delete().where(pending_event.c.pipeline == pipeline)
        )


def state(engine: Engine, pipeline: str, table: str) -> dict[str, object]:
    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)
        rows = connection.execute(sa.text(f"SELECT id, code FROM {table} ORDER BY id"))
        audit = connection.execute(
            sa.text(
                "SELECT id, count(*) FROM cb_apply_test.held_audit GROUP BY id "
                "ORDER BY id"
            )
        )
        held = connection.execute(
            sa.select(sa.func.count()).where(pending_event.c.pipeline == pipeline)
        )
        return {
            "rows": [tuple(row) for row in rows],
            "audit": [tuple(row) for row in audit],
            "held": held.scalar_one(),
            "order": stored.order if stored else None,
        }


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("crash", [1, 2, 3], ids=["first", "holding", "releasing"])
def test_sigkill_with_a_held_tail_applies_the_transaction_exactly_once(
    engine: Engine, held_pipeline: str, audited: str, *, step: str, crash: int
) -> None:
    code = run_child(engine, held_pipeline, audited, first=1, crash=crash, step=step)
    after_crash = state(engine, held_pipeline, audited)

    # The held tail was never acknowledged, so Debezium delivers the whole
    # transaction again: from its first batch.
    run_child(engine, held_pipeline, audited, first=1, crash=0, step="none")

    assert code == -signal.SIGKILL
    assert after_crash["rows"] in ([], ROWS)
    assert after_crash["order"] in (None, (40, 9, 0))
    assert state(engine, held_pipeline, audited) == {
        "rows": ROWS,
        "audit": [(key, 1) for key, _ in ROWS],
        "held": 0,
        "order": (40, 9, 0),
    }


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("crash", [2, 3], ids=["second", "last"])
def test_sigkill_in_a_transaction_applied_in_parts_loses_and_repeats_nothing(
    engine: Engine, held_pipeline: str, audited: str, *, step: str, crash: int
) -> None:
    """Past max_held the parts are visible early, yet a restart from the
    transaction's first event (never acknowledged) applies each row once."""
    code = run_child(
        engine, held_pipeline, audited, first=1, crash=crash, step=step, max_held=2
    )
    after_crash = state(engine, held_pipeline, audited)

    run_child(
        engine, held_pipeline, audited, first=1, crash=0, step="none", max_held=2
    )

    assert code == -signal.SIGKILL
    assert after_crash["rows"] in (ROWS[:3], ROWS[:6], ROWS)
    assert state(engine, held_pipeline, audited) == {
        "rows": ROWS,
        "audit": [(key, 1) for key, _ in ROWS],
        "held": 0,
        "order": (40, 9, 0),
    }


def test_events_an_earlier_version_stored_are_applied_first(
    engine: Engine, held_pipeline: str, audited: str
) -> None:
    stored = upsert(audited, (30, 1, 0), {"id": 1, "code": "old"}, transaction_id="t0")
    with engine.begin() as connection:
        connection.execute(
            pending_event.insert().values(
                pipeline=held_pipeline,
                seq=1,
                transaction_id="t0",
                event=event_to_json(stored.event),
                held_at=datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None),
            )
        )

    run_child(engine, held_pipeline, audited, first=1, crash=0, step="none")

    # Row 1 was written by the stored event, then by the transaction's own upsert.
    assert state(engine, held_pipeline, audited) == {
        "rows": ROWS,
        "audit": [(1, 2)] + [(key, 1) for key, _ in ROWS[1:]],
        "held": 0,
        "order": (40, 9, 0),
    }
