"""Topics created up front for the project's connector files."""

from __future__ import annotations

from pathlib import Path

from bridge.capture.connectors import load_connector
from bridge.capture.kafka_topics import connector_topics, data_topics

CONNECTORS = Path(__file__).resolve().parents[3] / "connectors"


def test_credit_china_connector_topics() -> None:
    connector = load_connector(CONNECTORS / "credit-china-outcomes.json")

    assert data_topics(connector) == [
        "creditchina.xyzg.xyxf_jg",
        "creditchina.bridge.heartbeat",
    ]
    assert connector_topics(connector, 3) == {
        "creditchina.xyzg.xyxf_jg": 3,
        "creditchina.bridge.heartbeat": 3,
        "__debezium-heartbeat.creditchina": 1,
        "creditchina.transaction": 1,
    }


def test_necips_connector_topics_include_its_schema_history() -> None:
    connector = load_connector(CONNECTORS / "necips-outcomes.json")

    assert connector_topics(connector, 2) == {
        "necips.gsxt.E_CR_REPAIR": 2,
        "necips.bridge.heartbeat": 2,
        "__debezium-heartbeat.necips": 1,
        "necips.transaction": 1,
        "necips-outcomes.schema-history": 1,
    }
