"""Applying batches into real PostgreSQL and MySQL targets (C05, C06, C08, C10)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from apply_events import delete, filtered, rejection, soft_delete, upsert
from sqlalchemy.engine import Engine

from bridge.apply import Applier, ConflictPolicy, RetrySettings, deadletter
from bridge.apply.schema import checkpoint, conflict, dead_letter
from bridge.checkpoint import read_checkpoint, read_offsets

pytestmark = pytest.mark.db

SOURCE_WINS = ConflictPolicy.source_wins()


def rows(engine: Engine, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        query = f"SELECT {columns} FROM {table} ORDER BY 1"
        return [tuple(row) for row in connection.execute(sa.text(query))]


def letters(engine: Engine, pipeline: str) -> list[Any]:
    with engine.connect() as connection:
        query = sa.select(dead_letter).where(dead_letter.c.pipeline == pipeline)
        return list(connection.execute(query.order_by(dead_letter.c.id)))


def stored_order(engine: Engine, pipeline: str) -> tuple[int, ...] | None:
    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)
    return None if stored is None else stored.order


@pytest.fixture
def item(make_table: Any) -> str:
    name: str = make_table("item", "id int primary key, v varchar(10)")
    return name


def test_c05_insert_delete_insert_in_one_batch_leaves_the_last(
    engine: Engine, pipeline: str, item: str
) -> None:
    # Pins: coalescing a batch must keep per-key order (delete between two inserts).
    applier = Applier(engine, default_policy=SOURCE_WINS)
    batch = [
        upsert(item, (1, 1, 0), {"id": 5, "v": "a"}),
        delete(item, (1, 2, 0), 5),
        upsert(item, (1, 3, 0), {"id": 5, "v": "b"}),
    ]

    report = applier.apply_batch(pipeline, batch)

    assert rows(engine, item) == [(5, "b")]
    assert (report.applied, report.dead_lettered, report.skipped) == (3, 0, 0)
    assert stored_order(engine, pipeline) == (1, 3, 0)


def test_c05_primary_key_change_leaves_only_the_new_key(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=SOURCE_WINS)
    applier.apply_batch(pipeline, [upsert(item, (1, 1, 0), {"id": 5, "v": "b"})])

    applier.apply_batch(
        pipeline,
        [delete(item, (2, 1, 0), 5), upsert(item, (2, 2, 0), {"id": 6, "v": "b"})],
    )

    assert rows(engine, item) == [(6, "b")]


def test_c05_upsert_then_delete_in_one_batch_leaves_nothing(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=SOURCE_WINS)

    applier.apply_batch(
        pipeline,
        [upsert(item, (1, 1, 0), {"id": 7, "v": "x"}), delete(item, (1, 2, 0), 7)],
    )

    assert rows(engine, item) == []


def test_c08_too_long_value_is_dead_lettered_and_the_others_apply(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    # Pins: one bad row must neither stop the batch nor be truncated to 'way-t'.
    target = make_table("t", "id int primary key, code varchar(5)")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    batch = [
        upsert(target, (10, 1, 0), {"id": 1, "code": "ok"}),
        upsert(target, (10, 2, 0), {"id": 2, "code": "way-too-long-code"}),
        upsert(target, (10, 3, 0), {"id": 3, "code": "ok3"}),
    ]

    report = applier.apply_batch(pipeline, batch)

    assert rows(engine, target) == [(1, "ok"), (3, "ok3")]
    assert (report.applied, report.dead_lettered) == (2, 1)
    [letter] = letters(engine, pipeline)
    expected = {
        "postgresql": (
            "StringDataRightTruncation",
            "22001",
            "value too long for type character varying(5)",
        ),
        "mysql": (
            "DataError",
            "1406",
            "(1406, \"Data too long for column 'code' at row 1\")",
        ),
    }[engine.dialect.name]
    assert (letter.error_class, letter.error_code, letter.message) == expected
    assert (letter.status, letter.source_table, letter.target_table) == (
        "new",
        "public.t",
        target,
    )
    assert letter.event_key == '{"id": 2}'
    assert letter.position_order == "[10, 2, 0]"
    assert letter.raw_event == '{"payload": "as Debezium sent it"}'
    assert (letter.mapping_name, letter.mapping_version) == ("test-mapping", "v1")
    assert stored_order(engine, pipeline) == (10, 3, 0)


def test_c08_redelivered_batch_is_skipped_and_not_dead_lettered_twice(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    target = make_table("t", "id int primary key, code varchar(5)")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    batch = [
        upsert(target, (10, 1, 0), {"id": 1, "code": "ok"}),
        upsert(target, (10, 2, 0), {"id": 2, "code": "way-too-long-code"}),
    ]
    applier.apply_batch(pipeline, batch)

    report = applier.apply_batch(pipeline, batch)

    assert (report.applied, report.skipped, report.dead_lettered) == (0, 2, 0)
    assert len(letters(engine, pipeline)) == 1


def test_c08_events_sharing_one_lsn_apply_once_after_a_partial_batch(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    # Pins: ordinals among events of one LSN must tell 11 and 12 apart from 10.
    target = make_table("t", "id int primary key, code varchar(5)")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    same_lsn = [
        upsert(
            target, (0x16B3748, 0x16B3748, ordinal), {"id": 10 + ordinal, "code": "c"}
        )
        for ordinal in range(3)
    ]
    applier.apply_batch(pipeline, same_lsn[:1])

    report = applier.apply_batch(pipeline, same_lsn)

    assert (report.skipped, report.applied) == (1, 2)
    assert rows(engine, target) == [(10, "c"), (11, "c"), (12, "c")]


def test_c06_four_byte_characters_are_stored_byte_identical(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    text_type = "mediumtext" if engine.dialect.name == "mysql" else "text"
    target = make_table("note", f"id int primary key, body {text_type}")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    body = "kiss \U0001f48b name \U00020bb7田"

    applier.apply_batch(pipeline, [upsert(target, (1, 1, 0), {"id": 1, "body": body})])

    assert rows(engine, target, "id, body") == [(1, body)]
    # Measured by the database: 14 characters in 22 bytes, nothing replaced by '?'.
    octets = "LENGTH" if engine.dialect.name == "mysql" else "octet_length"
    assert rows(engine, target, f"char_length(body), {octets}(body)") == [(14, 22)]


@pytest.mark.parametrize("dialect", ["mysql"])
def test_c06_four_byte_characters_into_utf8mb3_go_to_dead_letters(
    engine: Engine, pipeline: str, make_table: Any, dialect: str
) -> None:
    # Pins: a 3-byte column must refuse the row (strict mode), never store '?'.
    if engine.dialect.name != dialect:
        pytest.skip("utf8mb3 columns exist on MySQL only")
    target = make_table(
        "note", "id int primary key, body mediumtext CHARACTER SET utf8mb3"
    )
    applier = Applier(engine, default_policy=SOURCE_WINS)
    body = "kiss \U0001f48b name \U00020bb7田"
    batch = [
        upsert(target, (1, 1, 0), {"id": 1, "body": body}),
        upsert(target, (1, 2, 0), {"id": 2, "body": "plain"}),
    ]

    applier.apply_batch(pipeline, batch)

    assert rows(engine, target) == [(2, "plain")]
    [letter] = letters(engine, pipeline)
    assert letter.error_code == "1366"
    assert letter.message == (
        "(1366, \"Incorrect string value: '\\\\xF0\\\\x9F\\\\x92\\\\x8B n...' "
        "for column 'body' at row 1\")"
    )
    assert letter.position_order == "[1, 1, 0]"


def test_c10_explicit_null_is_written_not_the_default(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    target = make_table(
        "claim",
        "id int primary key, method varchar(20) null default 'OTHER', "
        "score int null default 9",
    )
    applier = Applier(engine, default_policy=SOURCE_WINS)
    batch = [
        upsert(target, (1, 1, 0), {"id": 60001, "method": None, "score": None}),
        upsert(target, (1, 2, 0), {"id": 60002, "method": "MANUAL", "score": 5}),
    ]

    applier.apply_batch(pipeline, batch)

    assert rows(engine, target) == [(60001, None, None), (60002, "MANUAL", 5)]


def test_c10_explicit_null_overwrites_an_existing_value(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    target = make_table("claim", "id int primary key, method varchar(20) default 'X'")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    applier.apply_batch(pipeline, [upsert(target, (1, 1, 0), {"id": 1, "method": "A"})])

    applier.apply_batch(
        pipeline, [upsert(target, (1, 2, 0), {"id": 1, "method": None})]
    )

    assert rows(engine, target) == [(1, None)]


def test_other_unique_key_collision_is_dead_lettered_and_the_other_row_kept(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    # Pins: MySQL's ON DUPLICATE KEY UPDATE fires on any unique index and would
    # rewrite row 1 with the data of row 2.
    target = make_table(
        "outcome",
        "id int primary key, xf_bh varchar(40) not null unique, v varchar(10)",
    )
    applier = Applier(engine, default_policy=SOURCE_WINS)
    applier.apply_batch(
        pipeline, [upsert(target, (1, 1, 0), {"id": 1, "xf_bh": "XF-1", "v": "first"})]
    )

    report = applier.apply_batch(
        pipeline,
        [
            upsert(target, (2, 1, 0), {"id": 2, "xf_bh": "XF-1", "v": "second"}),
            upsert(target, (2, 2, 0), {"id": 3, "xf_bh": "XF-3", "v": "third"}),
        ],
    )

    assert rows(engine, target) == [(1, "XF-1", "first"), (3, "XF-3", "third")]
    assert (report.applied, report.dead_lettered) == (1, 1)
    [letter] = letters(engine, pipeline)
    expected = {
        "postgresql": (
            "UniqueViolation",
            "23505",
            'duplicate key value violates unique constraint "outcome_xf_bh_key"\n'
            "DETAIL:  Key (xf_bh)=(XF-1) already exists.",
        ),
        "mysql": (
            "UniqueCollisionError",
            None,
            f"row {{'id': 2}} for {target!r} collides on unique key (xf_bh) = "
            "('XF-1',) with the existing row {'id': 1}; it goes to the dead-letter "
            "table and the other row is kept",
        ),
    }[engine.dialect.name]
    assert (letter.error_class, letter.error_code, letter.message) == expected


def newer_table(make_table: Any, engine: Engine) -> str:
    instant = "datetime(6)" if engine.dialect.name == "mysql" else "timestamptz"
    name: str = make_table(
        "staged", f"id int primary key, v varchar(10), cb_src_commit_ts {instant}"
    )
    return name


def at(second: int) -> datetime:
    return datetime(2024, 6, 15, 0, 0, second, tzinfo=UTC)


@pytest.mark.parametrize("newer_first", [True, False])
def test_newer_wins_keeps_the_newer_decision_whichever_arrives_first(
    engine: Engine, pipeline: str, make_table: Any, newer_first: bool
) -> None:
    target = newer_table(make_table, engine)
    applier = Applier(engine)
    newer = {"id": 1, "v": "newer", "cb_src_commit_ts": at(20)}
    older = {"id": 1, "v": "older", "cb_src_commit_ts": at(10)}
    first, second = (newer, older) if newer_first else (older, newer)

    applier.apply_batch(pipeline, [upsert(target, (1, 1, 0), first)])
    applier.apply_batch(pipeline, [upsert(target, (1, 2, 0), second)])

    assert rows(engine, target, "id, v") == [(1, "newer")]


@pytest.mark.parametrize("newer_first", [True, False])
def test_newer_wins_inside_one_batch(
    engine: Engine, pipeline: str, make_table: Any, newer_first: bool
) -> None:
    # Pins: folding a batch per key must not let the later, older decision win.
    target = newer_table(make_table, engine)
    applier = Applier(engine)
    newer = {"id": 1, "v": "newer", "cb_src_commit_ts": at(20)}
    older = {"id": 1, "v": "older", "cb_src_commit_ts": at(10)}
    first, second = (newer, older) if newer_first else (older, newer)

    applier.apply_batch(
        pipeline, [upsert(target, (1, 1, 0), first), upsert(target, (1, 2, 0), second)]
    )

    assert rows(engine, target, "id, v") == [(1, "newer")]


def test_newer_wins_soft_delete_of_an_older_decision_is_ignored(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    target = newer_table(make_table, engine)
    applier = Applier(engine)
    applier.apply_batch(
        pipeline,
        [upsert(target, (1, 1, 0), {"id": 1, "v": "a", "cb_src_commit_ts": at(20)})],
    )

    applier.apply_batch(
        pipeline,
        [
            soft_delete(
                target, (1, 2, 0), 1, {"v": "gone", "cb_src_commit_ts": at(10)}
            ),
            soft_delete(
                target, (1, 3, 0), 2, {"v": "gone", "cb_src_commit_ts": at(30)}
            ),
        ],
    )

    assert rows(engine, target, "id, v") == [(1, "a")]


def test_newer_wins_without_the_version_column_refuses_to_start(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine)

    with pytest.raises(Exception) as caught:
        applier.apply_batch(pipeline, [upsert(item, (1, 1, 0), {"id": 1, "v": "a"})])

    assert str(caught.value) == (
        f"conflict policy newer_wins of target table {item!r} needs column "
        "'cb_src_commit_ts', which the table lacks; declare another column or choose "
        "source_wins, target_wins or park; the pipeline stops"
    )
    assert stored_order(engine, pipeline) is None


def test_target_wins_keeps_the_existing_row(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=ConflictPolicy.target_wins())
    applier.apply_batch(pipeline, [upsert(item, (1, 1, 0), {"id": 1, "v": "first"})])

    applier.apply_batch(
        pipeline,
        [
            upsert(item, (1, 2, 0), {"id": 1, "v": "second"}),
            upsert(item, (1, 3, 0), {"id": 2, "v": "new"}),
        ],
    )

    assert rows(engine, item) == [(1, "first"), (2, "new")]


def test_park_keeps_the_existing_row_and_parks_the_incoming_one(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=ConflictPolicy.park())
    applier.apply_batch(pipeline, [upsert(item, (1, 1, 0), {"id": 1, "v": "first"})])

    report = applier.apply_batch(
        pipeline,
        [
            upsert(item, (1, 2, 0), {"id": 1, "v": "second"}),
            upsert(item, (1, 3, 0), {"id": 2, "v": "new"}),
        ],
    )

    assert rows(engine, item) == [(1, "first"), (2, "new")]
    assert report.parked == 1
    with engine.connect() as connection:
        parked = connection.execute(
            sa.select(
                conflict.c.target_key, conflict.c.row_values, conflict.c.status
            ).where(conflict.c.pipeline == pipeline)
        ).all()
    assert [tuple(row) for row in parked] == [
        ('{"id": 1}', '{"id": 1, "v": "second"}', "parked")
    ]


def test_rejections_are_dead_lettered_and_filtered_results_move_the_checkpoint(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=SOURCE_WINS)

    report = applier.apply_batch(
        pipeline,
        [
            rejection((3, 1, 0), 7, "xdr_shxym '9111O108MAKFGU0C4E' is not a USCC"),
            filtered((3, 2, 0), 8),
        ],
    )

    assert (report.dead_lettered, report.filtered) == (1, 1)
    [letter] = letters(engine, pipeline)
    assert (letter.error_class, letter.message) == (
        "MappingError",
        "xdr_shxym '9111O108MAKFGU0C4E' is not a USCC",
    )
    assert stored_order(engine, pipeline) == (3, 2, 0)


def test_snapshot_reads_are_applied_again_but_dead_lettered_once(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    target = make_table("t", "id int primary key, code varchar(5)")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    batch = [
        upsert(target, (5, 0, 0), {"id": 1, "code": "ok"}, snapshot=True),
        upsert(target, (5, 0, 0), {"id": 2, "code": "too-long"}, snapshot=True),
    ]
    applier.apply_batch(pipeline, batch)
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {target} SET code = 'gone'"))

    report = applier.apply_batch(pipeline, batch)

    assert (report.applied, report.skipped, report.dead_lettered) == (1, 0, 1)
    assert rows(engine, target) == [(1, "ok")]
    [letter] = letters(engine, pipeline)
    assert letter.attempts == 2


def test_a_snapshot_taken_again_keeps_one_dead_letter_per_row_and_reopens_it(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    """Pins: a snapshot stopped midway and taken again left two dead letters for one
    row (the fingerprint held the snapshot's position)."""
    target = make_table("t", "id int primary key, code varchar(5)")
    applier = Applier(engine, default_policy=SOURCE_WINS)
    too_long = {"id": 2, "code": "too-long"}
    applier.apply_batch(pipeline, [upsert(target, (5, 0, 0), too_long, snapshot=True)])
    [first] = letters(engine, pipeline)
    with engine.begin() as connection:
        deadletter.mark_discarded(connection, first.id, "looked at it")

    changed = {"id": 2, "code": "longer"}
    applier.apply_batch(pipeline, [upsert(target, (9, 0, 0), changed, snapshot=True)])

    [letter] = letters(engine, pipeline)
    assert (letter.id, letter.status, letter.attempts) == (first.id, "new", 2)
    assert (letter.discard_reason, letter.position_order) == (None, "[9, 0, 0]")
    assert '"longer"' in letter.event


def test_checkpoint_and_kafka_offsets_commit_with_the_rows(
    engine: Engine, pipeline: str, item: str
) -> None:
    applier = Applier(engine, default_policy=SOURCE_WINS)

    applier.apply_batch(
        pipeline,
        [upsert(item, (4, 1, 0), {"id": 1, "v": "a"})],
        kafka_offsets={("xyzg.outcomes", 0): 18, ("xyzg.outcomes", 3): 7},
    )

    with engine.connect() as connection:
        offsets = read_offsets(connection, pipeline)
        position = connection.execute(
            sa.select(checkpoint.c.position).where(checkpoint.c.pipeline == pipeline)
        ).scalar()
    assert offsets == {("xyzg.outcomes", 0): 18, ("xyzg.outcomes", 3): 7}
    assert position == (
        '{"fields": {"lsn": "0/4", "txId": "tx-1"}, "order": [4, 1, 0], '
        '"snapshot": false, "source": "xyzg"}'
    )


@pytest.fixture(params=["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def bridge_time_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the bridge process itself in another local time zone."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_c04_instants_keep_microseconds_whatever_the_bridge_time_zone(
    engine: Engine, pipeline: str, make_table: Any, bridge_time_zone: str
) -> None:
    mysql = engine.dialect.name == "mysql"
    local, instant = (
        ("datetime(6)", "timestamp(6) null")
        if mysql
        else (
            "timestamp(6)",
            "timestamptz(6)",
        )
    )
    target = make_table(
        "payment", f"id int primary key, wall {local}, paid_at {instant}"
    )
    applier = Applier(engine, default_policy=SOURCE_WINS)
    paid = datetime(2024, 2, 23, 8, 52, 14, 431487, tzinfo=UTC)

    applier.apply_batch(
        pipeline, [upsert(target, (1, 1, 0), {"id": 1, "wall": paid, "paid_at": paid})]
    )

    epoch = "UNIX_TIMESTAMP(paid_at)" if mysql else "extract(epoch from paid_at)"
    assert rows(engine, target, f"id, wall, {epoch}") == [
        (1, datetime(2024, 2, 23, 8, 52, 14, 431487), Decimal("1708678334.431487"))
    ]


def test_unreachable_target_is_retried_then_raised_as_retryable(
    engine: Engine, pipeline: str
) -> None:
    from bridge.apply import make_engine
    from bridge.errors import RetryableError

    url = engine.url.set(host="127.0.0.1", port=1)
    applier = Applier(
        make_engine(url),
        default_policy=SOURCE_WINS,
        retry=RetrySettings(initial=0.01, maximum=0.02, attempts=2),
    )

    with pytest.raises(RetryableError) as caught:
        applier.apply_batch(pipeline, [upsert("x.y", (1, 1, 0), {"id": 1})])

    assert str(caught.value).startswith(f"pipeline {pipeline}: target database error (")
    assert str(caught.value).endswith("; the batch is retried")


def test_bridge_columns_are_filled_and_an_upsert_clears_the_soft_delete(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    from bridge.apply.policy import MetadataFill, TargetSettings

    instant = "datetime(6)" if engine.dialect.name == "mysql" else "timestamptz"
    target = make_table(
        "staged",
        f"id int primary key, v varchar(10), cb_origin varchar(8), "
        f"cb_src_position text, cb_src_commit_ts {instant}, "
        f"cb_applied_at {instant}, cb_deleted_at {instant}",
    )
    fill = MetadataFill(
        "cb_origin",
        "XYZG",
        "cb_src_position",
        "cb_src_commit_ts",
        "cb_applied_at",
        "cb_deleted_at",
    )
    applier = Applier(engine, targets={target: TargetSettings(metadata=fill)})
    applier.apply_batch(pipeline, [upsert(target, (1, 1, 0), {"id": 1, "v": "a"})])
    applier.apply_batch(
        pipeline, [soft_delete(target, (1, 2, 0), 1, {"cb_deleted_at": at(1)})]
    )
    deleted = rows(engine, target, "id, v, cb_deleted_at IS NOT NULL")

    applier.apply_batch(pipeline, [upsert(target, (1, 3, 0), {"id": 1, "v": "b"})])

    assert deleted == [(1, "a", True)]
    assert rows(
        engine,
        target,
        "id, v, cb_origin, cb_src_position, cb_deleted_at IS NULL, "
        "cb_applied_at IS NOT NULL",
    ) == [
        (
            1,
            "b",
            "XYZG",
            '{"fields": {"lsn": "0/1", "txId": "tx-1"}, "order": [1, 3, 0], '
            '"snapshot": false, "source": "xyzg"}',
            True,
            True,
        )
    ]


def test_columns_that_are_null_in_every_row_of_a_batch_are_written_as_null(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    # Pins: an array of only NULLs has no element type of its own (PostgreSQL path).
    instant = "datetime(6)" if engine.dialect.name == "mysql" else "timestamptz"
    target = make_table(
        "sparse",
        f"id int primary key, n int default 5, d date, ts {instant}, "
        "amount numeric(24,6) default 1, flag boolean default true",
    )
    applier = Applier(engine, default_policy=SOURCE_WINS)
    nulls = {"n": None, "d": None, "ts": None, "amount": None, "flag": None}

    applier.apply_batch(
        pipeline,
        [
            upsert(target, (1, 1, 0), {"id": 1, **nulls}),
            upsert(target, (1, 2, 0), {"id": 2, **nulls}),
            upsert(target, (1, 3, 0), {"id": 3, **nulls, "amount": 7}),
        ],
    )

    assert rows(engine, target) == [
        (1, None, None, None, None, None),
        (2, None, None, None, None, None),
        (3, None, None, None, Decimal("7.000000"), None),
    ]


def test_check_constraint_violation_is_dead_lettered(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    target = make_table(
        "fine",
        "id int primary key, fen bigint, CONSTRAINT fen_positive CHECK (fen >= 0)",
    )
    applier = Applier(engine, default_policy=SOURCE_WINS)

    applier.apply_batch(
        pipeline,
        [
            upsert(target, (1, 1, 0), {"id": 1, "fen": -100}),
            upsert(target, (1, 2, 0), {"id": 2, "fen": 5_000_000}),
        ],
    )

    assert rows(engine, target) == [(2, 5_000_000)]
    [letter] = letters(engine, pipeline)
    expected = {
        "postgresql": (
            "23514",
            'new row for relation "fine" violates check constraint "fen_positive"\n'
            "DETAIL:  Failing row contains (1, -100).",
        ),
        "mysql": ("3819", "(3819, \"Check constraint 'fen_positive' is violated.\")"),
    }[engine.dialect.name]
    assert (letter.error_code, letter.message) == expected


def test_a_missing_target_table_stops_without_dead_letters(
    engine: Engine, pipeline: str
) -> None:
    from bridge.errors import ConfigError

    applier = Applier(engine, default_policy=SOURCE_WINS)

    with pytest.raises(ConfigError) as caught:
        applier.apply_batch(
            pipeline, [upsert("cb_apply_test.absent", (1, 1, 0), {"id": 1})]
        )

    assert str(caught.value) == (
        "target table 'cb_apply_test.absent' does not exist or the writer cannot see "
        "it; the pipeline stops until it is created or the mapping is fixed"
    )
    assert (letters(engine, pipeline), stored_order(engine, pipeline)) == ([], None)


def test_a_batch_the_target_refuses_names_pipeline_table_and_mapping(
    engine: Engine, pipeline: str, make_table: Any
) -> None:
    """Pins: MySQL error 1364 stopping the bridge with no pipeline, table or remedy."""
    from bridge.apply.errors import TargetRefusedError

    if engine.dialect.name != "mysql":
        pytest.skip("PostgreSQL dead-letters a missing NOT NULL value (23502)")
    target = make_table("repair", "id int primary key, kind tinyint NOT NULL")
    applier = Applier(engine, default_policy=SOURCE_WINS)

    with pytest.raises(TargetRefusedError) as caught:
        applier.apply_batch(pipeline, [upsert(target, (1, 1, 0), {"id": 1})])

    assert str(caught.value) == (
        f"pipeline {pipeline}: target database refused the batch for table "
        "cb_apply_test.repair (mapping /nonexistent/test.yaml): (1364, \"Field 'kind' "
        "doesn't have a default value\"); no row can fix this, so the pipeline stops "
        "before its checkpoint moves; fix the mapping or the target table, then start "
        "the bridge again: the batch is delivered again"
    )
    assert (letters(engine, pipeline), stored_order(engine, pipeline)) == ([], None)
