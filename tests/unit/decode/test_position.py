"""Source positions: LSN notation, order tuples, and the ordinal sequencer."""

from __future__ import annotations

import logging
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.decode import PositionSequencer, render_lsn
from bridge.decode.position import (
    binlog_file_number,
    mysql_position,
    parse_lsn,
    postgres_position,
)
from bridge.events import SourcePosition


def pg(lsn: int, sequence: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "name": "creditchina",
        "lsn": lsn,
        "sequence": sequence,
        "txId": 571,
        "snapshot": "false",
        **extra,
    }


def my(
    pos: int, row: int = 0, file: str = "binlog.000003", **extra: Any
) -> dict[str, Any]:
    return {
        "name": "necips",
        "file": file,
        "pos": pos,
        "row": row,
        "gtid": "5f1c2a7e-1f6d-11ef-9a52-0242ac110002:23",
        "server_id": 184001,
        "snapshot": "false",
        **extra,
    }


@pytest.mark.parametrize(
    ("lsn", "text"),
    [
        (23803720, "0/16B3748"),
        (0, "0/0"),
        ((1 << 32) + 16, "1/10"),
        (0xFFFFFFFFFFFFFFFF, "FFFFFFFF/FFFFFFFF"),
    ],
)
def test_lsn_notation(lsn: int, text: str) -> None:
    assert render_lsn(lsn) == text
    assert parse_lsn(text) == lsn


def test_postgres_position() -> None:
    position = postgres_position(pg(24023128, '["24023119","24023128"]'))

    assert position.order == (24023119, 24023128, 0)
    assert position.fields == {
        "lsn": "0/16E9058",
        "commit_lsn": "0/16E904F",
        "txid": 571,
    }
    assert position.snapshot is False
    assert str(position) == "creditchina lsn=0/16E9058 commit_lsn=0/16E904F txid=571"


def test_postgres_position_before_the_first_commit() -> None:
    position = postgres_position(pg(23803720, '[null,"23803720"]', snapshot="last"))

    assert position.order == (0, 23803720, 0)
    assert position.snapshot is True
    assert str(position) == "snapshot creditchina lsn=0/16B3748 txid=571"


def test_interleaved_transactions_keep_commit_order() -> None:
    """Pins: ordering by change LSN alone, which puts T2 (committed later) first."""
    t1_late_change = postgres_position(pg(300, '["50","300"]'))
    t2_early_change = postgres_position(pg(200, '["400","200"]'))

    assert t1_late_change.order < t2_early_change.order


def test_mysql_position() -> None:
    position = mysql_position(my(4000, row=2))

    assert position.order == (3, 4000, 2, 0)
    assert str(position) == (
        "necips file=binlog.000003 pos=4000 row=2 "
        "gtid=5f1c2a7e-1f6d-11ef-9a52-0242ac110002:23 server_id=184001"
    )


def test_mysql_positions_across_binlog_files() -> None:
    late_in_file_3 = mysql_position(my(99_000_000, file="binlog.000003"))
    early_in_file_4 = mysql_position(my(157, file="binlog.000004"))

    assert late_in_file_3.order < early_in_file_4.order
    assert binlog_file_number("mysql-bin.000123") == 123


def test_position_survives_its_json_form() -> None:
    position = postgres_position(pg(24023128, '["24023119","24023128"]'))

    assert SourcePosition.from_json(position.to_json()) == position


def test_sequencer_numbers_events_sharing_a_position() -> None:
    sequencer = PositionSequencer()
    snapshot = [mysql_position(my(157, snapshot="true")) for _ in range(3)]
    streamed = [mysql_position(my(4000, row=0)), mysql_position(my(4000, row=1))]

    orders = [sequencer.sequence(p).order for p in [*snapshot, *streamed]]

    assert orders == [
        (3, 157, 0, 0),
        (3, 157, 0, 1),
        (3, 157, 0, 2),
        (3, 4000, 0, 0),
        (3, 4000, 1, 0),
    ]


def test_sequencer_warns_when_the_source_goes_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sequencer = PositionSequencer()
    sequencer.sequence(postgres_position(pg(500, '["400","500"]')))

    with caplog.at_level(logging.WARNING, logger="bridge.decode.position"):
        again = sequencer.sequence(postgres_position(pg(300, '["200","300"]')))

    assert again.order == (200, 300, 0)
    assert caplog.messages == [
        "source creditchina went back from (400, 500) to (200, 300); the checkpoint "
        "decides whether these events are redeliveries"
    ]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1))
def test_sequenced_orders_strictly_increase(steps: list[tuple[int, int]]) -> None:
    sequencer = PositionSequencer()
    commit, lsn, orders = 0, 0, []
    for commit_step, lsn_step in steps:
        commit, lsn = commit + commit_step, lsn + lsn_step
        position = postgres_position(pg(lsn, f'["{commit}","{lsn}"]'))
        orders.append(sequencer.sequence(position).order)

    assert all(a < b for a, b in pairwise(orders))
