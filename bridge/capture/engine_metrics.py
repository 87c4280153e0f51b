"""Debezium's own streaming figures, read from the JVM's MBean server.

Each connector task registers ``debezium.<connector>:type=connector-metrics,
context=streaming,server=<topic.prefix>`` once it streams. The embedded engines live in
this process's JVM, so the bridge reads them in place, at scrape time; nothing polls.
Under Kafka Connect they live in the Connect worker's JVM and are not read here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import jpype

from bridge.capture.connectors import ConnectorFile

log = logging.getLogger(__name__)

_ATTRIBUTES = (
    "MilliSecondsBehindSource",
    "QueueRemainingCapacity",
    "QueueTotalCapacity",
)


@dataclass(frozen=True, slots=True)
class StreamingReading:
    """One connector's streaming figures; None where Debezium has none yet."""

    millis_behind_source: int | None
    """Now minus the source timestamp of the last event the connector read (its
    commit time); kept between events, so an idle source shows its last value."""
    queue_remaining: int | None
    """Free places in the queue between the connector's reader and the engine:
    near zero means the bridge, not the source, is the bottleneck."""
    queue_capacity: int | None


def read_streaming(connector: ConnectorFile) -> StreamingReading | None:
    """*connector*'s streaming figures, or None while it does not stream."""
    if not jpype.isJVMStarted():
        return None
    name = _streaming_mbean(connector)
    if name is None:
        return None
    server = jpype.JClass("java.lang.management.ManagementFactory")
    try:
        found = server.getPlatformMBeanServer().getAttributes(
            name, jpype.JArray(jpype.JString)(_ATTRIBUTES)
        )
    except jpype.JException as exc:  # the task stopped between query and read
        log.debug("capture %s: streaming metrics: %s", connector.name, exc)
        return None
    values = {str(item.getName()): item.getValue() for item in found.asList()}
    behind = _number(values.get("MilliSecondsBehindSource"))
    return StreamingReading(
        # Debezium reports -1 until the first event.
        millis_behind_source=behind if behind is None or behind >= 0 else None,
        queue_remaining=_number(values.get("QueueRemainingCapacity")),
        queue_capacity=_number(values.get("QueueTotalCapacity")),
    )


def _streaming_mbean(connector: ConnectorFile) -> Any:
    """The registered name of *connector*'s streaming metrics, or None.

    Matched on the ``server`` key rather than built: newer Debezium releases add
    keys (``task``, custom tags) to the name.
    """
    object_name = jpype.JClass("javax.management.ObjectName")
    pattern = object_name(
        f"debezium.{connector.kind}:type=connector-metrics,context=streaming,*"
    )
    server = jpype.JClass("java.lang.management.ManagementFactory")
    names = server.getPlatformMBeanServer().queryNames(pattern, None)
    for name in names:
        if str(name.getKeyProperty("server")) == connector.topic_prefix:
            return name
    return None


def _number(value: Any) -> int | None:
    return None if value is None else int(value)
