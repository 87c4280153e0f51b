"""The Kafka topics a Debezium connector writes, with the partition counts to create.

Data topics get the pipeline's partition count: Debezium keys records by primary key,
so the changes of one row stay in order within one partition while several bridge
processes share the partitions. Heartbeats, transaction boundaries, schema changes and
the MySQL schema history get one partition each (the history must be read back in
order).
"""

from __future__ import annotations

from bridge.capture.connectors import ConnectorFile
from bridge.decode.markers import transaction_topic

HEARTBEAT_PREFIX = "__debezium-heartbeat"


def data_topics(connector: ConnectorFile) -> list[str]:
    """``<topic.prefix>.<schema or database>.<table>`` for each captured table."""
    tables = connector.config.get("table.include.list", "")
    prefix = connector.topic_prefix
    return [f"{prefix}.{table.strip()}" for table in tables.split(",") if table.strip()]


def connector_topics(connector: ConnectorFile, partitions: int) -> dict[str, int]:
    """Every topic *connector* writes, mapped to the partition count to create it with.

    Tansu creates a missing topic with 4 partitions on first use and cannot add
    partitions later, so all of them are created up front.
    """
    config = connector.config
    topics = dict.fromkeys(data_topics(connector), partitions)
    if int(config.get("heartbeat.interval.ms", "0")) > 0:
        heartbeat = config.get("topic.heartbeat.prefix", HEARTBEAT_PREFIX)
        topics[f"{heartbeat}.{connector.topic_prefix}"] = 1
    boundaries = transaction_topic(config)
    if boundaries is not None:
        # BEGIN/END records; the consumer does not read them (records of different
        # partitions interleave, so whole transactions cannot be told apart anyway).
        topics[boundaries] = 1
    if connector.kind == "mysql":
        if config.get("include.schema.changes", "true") == "true":
            topics[connector.topic_prefix] = 1
        history = config.get("schema.history.internal.kafka.topic")
        if history:
            topics[history] = 1
    return topics
