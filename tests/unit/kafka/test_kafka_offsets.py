"""Which records a batch applies, and which offsets it stores (pure functions)."""

from __future__ import annotations

from bridge.capture.kafka import KafkaRecord
from bridge.capture.kafka_offsets import offsets_after, unapplied


def _record(topic: str, partition: int, offset: int) -> KafkaRecord:
    return KafkaRecord(f'{{"id":{offset}}}', "{}", topic, partition, offset)


def test_unapplied_drops_records_below_the_stored_offset_per_partition() -> None:
    batch = [
        _record("cc.xyzg.xyxf_jg", 0, 4),
        _record("cc.xyzg.xyxf_jg", 0, 5),
        _record("cc.xyzg.xyxf_jg", 1, 2),
        _record("cc.xyzg.xyxf_jg", 1, 3),
        _record("cc.xyzg.xzcf_gs", 0, 0),
    ]
    stored = {("cc.xyzg.xyxf_jg", 0): 5, ("cc.xyzg.xyxf_jg", 1): 2}

    fresh = unapplied(batch, stored)

    assert [(r.topic, r.partition, r.offset) for r in fresh] == [
        ("cc.xyzg.xyxf_jg", 0, 5),
        ("cc.xyzg.xyxf_jg", 1, 2),
        ("cc.xyzg.xyxf_jg", 1, 3),
        ("cc.xyzg.xzcf_gs", 0, 0),
    ]


def test_a_batch_already_applied_whole_leaves_nothing() -> None:
    """Pins the fence: a member that lost its partitions must not re-apply them."""
    batch = [_record("t", 0, 7), _record("t", 0, 8)]

    assert unapplied(batch, {("t", 0): 9}) == []


def test_offsets_after_is_the_next_offset_per_partition() -> None:
    batch = [
        _record("t", 0, 10),
        _record("t", 1, 3),
        _record("t", 0, 11),
        _record("u", 0, 0),
    ]

    assert offsets_after(batch) == {("t", 0): 12, ("t", 1): 4, ("u", 0): 1}


def test_record_starts_with_the_embedded_paths_fields() -> None:
    """The shared decode code reads key, value and topic from either path."""
    record = KafkaRecord('{"id":1}', None, "cc.xyzg.xyxf_jg", 2, 40)

    assert (record.key, record.value, record.topic) == (
        '{"id":1}',
        None,
        "cc.xyzg.xyxf_jg",
    )
    assert KafkaRecord._fields[:3] == ("key", "value", "topic")
