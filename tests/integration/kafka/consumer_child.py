"""A bridge consumer in its own process, for the crash and rebalance tests.

It applies each record's row id into ``kafka_test.applied`` (no unique key, so a
duplicate would show) and the partition offsets into ``bridge.kafka_offset``, in one
transaction per batch. ``--pause-at-batch N`` makes it write batch N's rows, announce
it in ``--marker`` and wait there, inside the open transaction, to be killed.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridge.capture.kafka import KafkaCapture, KafkaRecord, KafkaSettings
from bridge.capture.kafka_offsets import ExactlyOnceHandler, TargetOffsets


def main() -> None:
    args = _arguments()
    logging.basicConfig(level=logging.WARNING)
    engine = sa.create_engine(args.target_url)
    batches = 0

    def write_rows(connection: Connection, records: Sequence[KafkaRecord]) -> None:
        nonlocal batches
        connection.execute(
            sa.text(
                "INSERT INTO kafka_test.applied "
                "(consumer, topic, kafka_partition, kafka_offset, row_id) "
                "VALUES (:consumer, :topic, :partition, :offset, :row_id)"
            ),
            [_row(args.name, r) for r in records],
        )
        batches += 1
        if batches == args.pause_at_batch:
            Path(args.marker).write_text(f"{len(records)}\n", encoding="utf-8")
            time.sleep(600)
        time.sleep(args.sleep)

    settings = KafkaSettings(
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        topics=tuple(args.topic),
        max_batch=args.batch,
        session_timeout_ms=6_000,
        client_id=args.name,
    )
    handler = ExactlyOnceHandler(engine, args.pipeline, write_rows)
    capture = KafkaCapture(settings, TargetOffsets(engine, args.pipeline), handler)
    signal.signal(signal.SIGTERM, lambda *_: capture.request_stop())
    capture.run()


def _row(consumer: str, record: KafkaRecord) -> dict[str, object]:
    value = json.loads(record.value) if record.value else None
    row_id = value["after"]["id"] if value and value["after"] else None
    return {
        "consumer": consumer,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "row_id": row_id,
    }


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--topic", action="append", required=True)
    parser.add_argument("--target-url", required=True)
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--pause-at-batch", type=int, default=0)
    parser.add_argument("--marker", default="")
    return parser.parse_args()


if __name__ == "__main__":
    main()
