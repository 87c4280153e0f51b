"""Transaction boundary records (provide.transaction.metadata) as typed markers."""

from __future__ import annotations

import pytest

from bridge.decode import RecordDecodeError
from bridge.decode.markers import TransactionMarker, decode_marker, transaction_topic

# As the real Debezium 3.6.3 engine wrote them (PostgreSQL puts the LSN of the record
# at hand after the txId, so BEGIN and END of one transaction differ).
PG_BEGIN = (
    '{"status":"BEGIN","id":"7901:805398592","event_count":null,'
    '"data_collections":null,"ts_ms":1796321247857}'
)
PG_END = (
    '{"status":"END","id":"7901:805399536","event_count":7,"data_collections":'
    '[{"data_collection":"cb_capture_test.t_5c8b366771","event_count":7}],'
    '"ts_ms":1796321247857}'
)
MYSQL_END = (
    '{"status":"END","id":"b8f7ed1e-ef3e-11f1-bbee-02fc00000001:5004",'
    '"event_count":7,"data_collections":[{"data_collection":"db.t",'
    '"event_count":7}],"ts_ms":1796321255055}'
)


def test_postgres_markers_keep_only_the_txid() -> None:
    assert decode_marker(PG_BEGIN, "postgresql") == TransactionMarker("BEGIN", "7901")
    assert decode_marker(PG_END.encode(), "postgresql") == TransactionMarker(
        "END", "7901", 7
    )


def test_mysql_marker_id_is_the_gtid() -> None:
    assert decode_marker(MYSQL_END, "mysql") == TransactionMarker(
        "END", "b8f7ed1e-ef3e-11f1-bbee-02fc00000001:5004", 7
    )


def test_marker_inside_a_schema_envelope() -> None:
    text = '{"schema":{"type":"struct"},"payload":' + PG_END + "}"

    assert decode_marker(text, "postgresql").event_count == 7


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "transaction boundary record has no value"),
        ("[1]", "transaction boundary is not a JSON object"),
        (
            '{"status":"COMMIT","id":"1"}',
            "transaction boundary with status 'COMMIT' and id '1'",
        ),
    ],
)
def test_malformed_marker_is_refused(value: str | None, reason: str) -> None:
    with pytest.raises(RecordDecodeError) as caught:
        decode_marker(value, "mysql", topic="necips.transaction")

    assert str(caught.value) == (
        f"cannot decode a record (topic necips.transaction) at an unknown position: "
        f"{reason}. The record goes to the dead-letter table."
    )


@pytest.mark.parametrize(
    ("config", "topic"),
    [
        ({"topic.prefix": "creditchina"}, None),
        (
            {"topic.prefix": "creditchina", "provide.transaction.metadata": "true"},
            "creditchina.transaction",
        ),
        (
            {
                "topic.prefix": "necips",
                "provide.transaction.metadata": "TRUE",
                "topic.delimiter": "_",
                "topic.transaction": "tx",
            },
            "necips_tx",
        ),
        ({"topic.prefix": "x", "provide.transaction.metadata": "false"}, None),
    ],
)
def test_transaction_topic(config: dict[str, str], topic: str | None) -> None:
    assert transaction_topic(config) == topic
