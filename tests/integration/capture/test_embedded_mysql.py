"""Embedded Debezium against the real MySQL 9.7: snapshot, streaming, restarts and a
start failure, each on its own scratch table and server id."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from capture_support import (
    SMALL_QUEUE,
    Collector,
    MysqlSource,
    assert_streaming_figures,
    change,
)

from bridge.capture.embedded import CaptureSource, EmbeddedCapture, RawRecord
from bridge.errors import CaptureError

pytestmark = [pytest.mark.db, pytest.mark.capture]

COLUMNS = "id int PRIMARY KEY, v varchar(20), amount decimal(24,6)"


@contextmanager
def capturing(
    source: MysqlSource, home: Path, environ: dict[str, str], handler: Collector
) -> Iterator[EmbeddedCapture]:
    capture = EmbeddedCapture(
        [CaptureSource(source.connector, handler)], home=home, environ=environ
    )
    capture.start()
    try:
        yield capture
    finally:
        capture.stop()


def changes(records: Sequence[RawRecord]) -> list[tuple[object, ...]]:
    return [change(record) for record in records]


def test_snapshot_then_create_update_delete_and_tombstone(
    mysql_source: Callable[..., MysqlSource], home: Path, environ: dict[str, str]
) -> None:
    source = mysql_source(COLUMNS)
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

    a = {"id": 1, "v": "a", "amount": "1.500000"}
    b = {"id": 2, "v": "b", "amount": None}
    assert changes(records) == [
        ("r", {"id": 1}, None, a),
        ("r", {"id": 2}, None, b),
        ("c", {"id": 3}, None, {"id": 3, "v": "街", "amount": "0.000001"}),
        # binlog_row_image=FULL: whole before-images on update and delete.
        ("u", {"id": 1}, a, {**a, "v": "a2"}),
        ("d", {"id": 2}, b, None),
        (None, {"id": 2}, None, None),
    ]
    assert {record.topic for record in records} == {f"necips.{source.qualified}"}


def test_primary_key_change_is_delete_tombstone_create(
    mysql_source: Callable[..., MysqlSource], home: Path, environ: dict[str, str]
) -> None:
    source = mysql_source(COLUMNS)
    source.execute(f"INSERT INTO {source.qualified} VALUES (5, 'b', 2)")
    collector = Collector()

    with capturing(source, home, environ, collector) as capture:
        collector.wait_for(1, "snapshot record", capture.raise_if_failed)
        source.execute(f"UPDATE {source.qualified} SET id = 6 WHERE id = 5")
        records = collector.wait_for(4, "changes", capture.raise_if_failed)

    row = {"v": "b", "amount": "2.000000"}
    assert changes(records)[1:] == [
        ("d", {"id": 5}, {"id": 5, **row}, None),
        (None, {"id": 5}, None, None),
        ("c", {"id": 6}, None, {"id": 6, **row}),
    ]


def test_explicit_null_arrives_as_null_not_as_the_column_default(
    mysql_source: Callable[..., MysqlSource], home: Path, environ: dict[str, str]
) -> None:
    # Pins C10: JsonConverter's replace.null.with.default (on by default) turned
    # the NULL of row 60001 into 'MANUAL' and 5.
    source = mysql_source(
        "id int PRIMARY KEY, method varchar(20) NULL DEFAULT 'MANUAL', "
        "score int NULL DEFAULT 5"
    )
    source.execute(f"INSERT INTO {source.qualified} VALUES (1, 'PHONE', 1)")
    collector = Collector()

    with capturing(source, home, environ, collector) as capture:
        collector.wait_for(1, "snapshot record", capture.raise_if_failed)
        source.execute(f"INSERT INTO {source.qualified} VALUES (60001, NULL, NULL)")
        source.execute(f"INSERT INTO {source.qualified} (id) VALUES (60002)")
        records = collector.wait_for(3, "changes", capture.raise_if_failed)

    assert [after for _, _, _, after in changes(records)[1:]] == [
        {"id": 60001, "method": None, "score": None},
        {"id": 60002, "method": "MANUAL", "score": 5},
    ]


def test_streaming_figures_are_debeziums_own_while_the_engine_streams(
    mysql_source: Callable[..., MysqlSource], home: Path, environ: dict[str, str]
) -> None:
    source = mysql_source(COLUMNS, settings=SMALL_QUEUE)

    assert_streaming_figures(source, home, environ)


def test_restart_resumes_where_it_stopped_without_loss(
    mysql_source: Callable[..., MysqlSource], home: Path, environ: dict[str, str]
) -> None:
    source = mysql_source(COLUMNS)
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

    assert [(op, key) for op, key, _, _ in changes(records)] == [
        ("c", {"id": 10}),
        ("c", {"id": 11}),
        ("c", {"id": 12}),
    ]


def test_wrong_password_raises_capture_error_with_the_server_reason(
    mysql_source: Callable[..., MysqlSource], home: Path, environ: dict[str, str]
) -> None:
    source = mysql_source(COLUMNS)
    wrong = {**environ, "CREDITBRIDGE_MYSQL_CAPTURE_PASSWORD": "not-the-password"}
    capture = EmbeddedCapture(
        [CaptureSource(source.connector, Collector())], home=home, environ=wrong
    )

    with pytest.raises(CaptureError) as raised:
        capture.run(handle_signals=False)

    assert str(raised.value) == (
        f"capture {source.connector.name} ({source.connector.path}) failed: "
        "Connector configuration is not valid. Unable to connect: Access denied for "
        "user 'cb_capture'@'127.0.0.1' (using password: YES); capture stopped, "
        "offsets are kept: fix the cause and start again"
    )
