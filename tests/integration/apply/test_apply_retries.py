"""Retryable target errors: retried with backoff, never dead-lettered (real servers)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from apply_events import upsert
from sqlalchemy.engine import Engine
from tcp_proxy import TcpProxy

from bridge.apply import Applier, ConflictPolicy, RetrySettings, make_engine
from bridge.apply.schema import dead_letter

pytestmark = pytest.mark.db

SOURCE_WINS = ConflictPolicy.source_wins()
PATIENT = RetrySettings(initial=0.05, maximum=0.5, attempts=None)


def wait_for(condition: Any, what: str) -> None:
    """Poll *condition* (not a timing assertion: only a guard against hanging)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]


def applying(applier: Applier, pipeline: str, batch: list[Any]) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            applier.apply_batch(pipeline, batch)
        except BaseException as exc:
            errors.append(exc)
            raise

    thread = threading.Thread(target=run)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def short_lock_wait(engine: Engine) -> Engine:
    """The same database, with sessions that give up a row lock after a moment."""
    options: dict[str, Any] = {
        "postgresql": {"options": "-c lock_timeout=300"},
        "mysql": {"init_command": "SET innodb_lock_wait_timeout = 1"},
    }[engine.dialect.name]
    return make_engine(engine.url, connect_args=options)


def test_lock_wait_timeout_is_retried_until_the_lock_goes(
    engine: Engine, pipeline: str, make_table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Pins: 1205 / 55P03 must be retried, not dead-lettered as a row error.
    caplog.set_level(logging.WARNING, logger="bridge.apply.retry")
    target = make_table("item", "id int primary key, v varchar(10)")
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO {target} VALUES (1, 'old')"))
    applier = Applier(
        short_lock_wait(engine), default_policy=SOURCE_WINS, retry=PATIENT
    )

    with engine.connect() as holder:
        locking = holder.begin()
        holder.execute(sa.text(f"SELECT * FROM {target} WHERE id = 1 FOR UPDATE"))
        thread = applying(
            applier, pipeline, [upsert(target, (1, 1, 0), {"id": 1, "v": "new"})]
        )
        wait_for(lambda: retries(caplog), "a retry")
        locking.rollback()
    thread.join()

    assert thread.errors == []  # type: ignore[attr-defined]
    code = {"postgresql": "lock timeout", "mysql": "(1205, "}[engine.dialect.name]
    assert code in retries(caplog)[0]
    with engine.connect() as connection:
        assert connection.execute(sa.text(f"SELECT v FROM {target}")).scalar() == "new"
        assert (
            connection.execute(
                sa.select(sa.func.count()).where(dead_letter.c.pipeline == pipeline)
            ).scalar()
            == 0
        )


def test_an_unreachable_database_is_waited_for_and_the_batch_then_applies(
    engine: Engine, pipeline: str, make_table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Pins: connection refused must be retried until the server is back, by itself.
    caplog.set_level(logging.WARNING, logger="bridge.apply.retry")
    target = make_table("item", "id int primary key, v varchar(10)")
    assert engine.url.port is not None
    proxy = TcpProxy(engine.url.port)
    applier = Applier(
        make_engine(engine.url.set(host="127.0.0.1", port=proxy.port)),
        default_policy=SOURCE_WINS,
        retry=PATIENT,
    )

    thread = applying(
        applier, pipeline, [upsert(target, (1, 1, 0), {"id": 1, "v": "a"})]
    )
    wait_for(lambda: len(retries(caplog)) >= 2, "two retries")
    proxy.open()
    thread.join()
    proxy.close()

    assert thread.errors == []  # type: ignore[attr-defined]
    assert "target database error" in retries(caplog)[0]
    with engine.connect() as connection:
        assert connection.execute(sa.text(f"SELECT * FROM {target}")).all() == [
            (1, "a")
        ]


WAITING = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND query LIKE '%cb_apply_test.item%'",
    # The statement itself, not the InnoDB lock wait: while another client's FLUSH
    # TABLES WITH READ LOCK (a Debezium snapshot) is pending, it waits before InnoDB.
    "mysql": "SELECT count(*) FROM information_schema.processlist "
    "WHERE info LIKE 'INSERT INTO cb_apply_test.item %'",
}


def test_deadlock_victim_batch_is_retried_and_applies(
    engine: Engine, pipeline: str, make_table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Pins: 1213 / 40P01 is retried; on MySQL the whole transaction is gone, so the
    # savepoint rollback fails too and must not hide the deadlock behind it.
    caplog.set_level(logging.WARNING, logger="bridge.apply.retry")
    target = make_table("item", "id int primary key, v varchar(10)")
    ballast = make_table("ballast", "id int primary key")
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO {target} VALUES (1, 'x'), (2, 'x')"))
    applier = Applier(engine, default_policy=SOURCE_WINS, retry=PATIENT)
    batch = [
        upsert(target, (1, 1, 0), {"id": 2, "v": "b"}),
        upsert(target, (1, 2, 0), {"id": 1, "v": "a"}),
    ]

    with engine.connect() as holder, engine.connect() as observer:
        locking = holder.begin()
        # Many written rows make the holder the heavier side: MySQL picks the
        # lighter transaction, the applier's, as the deadlock victim.
        holder.execute(
            sa.text(f"INSERT INTO {ballast} VALUES (:n)"),
            [{"n": n} for n in range(300)],
        )
        holder.execute(sa.text(f"SELECT * FROM {target} WHERE id = 1 FOR UPDATE"))
        thread = applying(applier, pipeline, batch)
        query = sa.text(WAITING[engine.dialect.name])
        wait_for(lambda: _polled(observer, query), "the applier to wait")
        holder.execute(sa.text(f"SELECT * FROM {target} WHERE id = 2 FOR UPDATE"))
        locking.rollback()
    thread.join()

    assert thread.errors == []  # type: ignore[attr-defined]
    code = {"postgresql": "deadlock detected", "mysql": "(1213, "}[engine.dialect.name]
    assert code in retries(caplog)[0]
    with engine.connect() as connection:
        assert connection.execute(
            sa.text(f"SELECT * FROM {target} ORDER BY id")
        ).all() == [
            (1, "a"),
            (2, "b"),
        ]


def _polled(observer: sa.Connection, query: sa.TextClause) -> bool:
    waiting = bool(observer.execute(query).scalar())
    observer.rollback()  # a new snapshot of the server's activity on every poll
    return waiting


def test_a_connection_lost_mid_batch_is_retried_on_a_new_one(
    engine: Engine, pipeline: str, make_table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Pins: a dead pooled connection must be dropped and the batch redone, not
    # dead-lettered and not half-applied.
    caplog.set_level(logging.WARNING, logger="bridge.apply.retry")
    target = make_table("item", "id int primary key, v varchar(10)")
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO {target} VALUES (1, 'x')"))
    assert engine.url.port is not None
    proxy = TcpProxy(engine.url.port)
    proxy.open()
    applier = Applier(
        make_engine(engine.url.set(host="127.0.0.1", port=proxy.port)),
        default_policy=SOURCE_WINS,
        retry=PATIENT,
    )
    batch = [
        upsert(target, (1, 1, 0), {"id": 2, "v": "b"}),
        upsert(target, (1, 2, 0), {"id": 1, "v": "a"}),
    ]

    with engine.connect() as holder, engine.connect() as observer:
        locking = holder.begin()
        holder.execute(sa.text(f"SELECT * FROM {target} WHERE id = 1 FOR UPDATE"))
        thread = applying(applier, pipeline, batch)
        query = sa.text(WAITING[engine.dialect.name])
        wait_for(lambda: _polled(observer, query), "the applier to wait")
        proxy.close()
        proxy.open()
        wait_for(lambda: retries(caplog), "a retry")
        locking.rollback()
    thread.join()
    proxy.close()

    assert thread.errors == []  # type: ignore[attr-defined]
    lost = {
        "postgresql": "server closed the connection unexpectedly",
        "mysql": "(2013, 'Lost connection to MySQL server during query",
    }[engine.dialect.name]
    assert lost in retries(caplog)[0]
    with engine.connect() as connection:
        assert connection.execute(
            sa.text(f"SELECT * FROM {target} ORDER BY id")
        ).all() == [
            (1, "a"),
            (2, "b"),
        ]
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).where(dead_letter.c.pipeline == pipeline)
            ).scalar()
            == 0
        )
