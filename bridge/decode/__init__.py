"""The decode stage: Debezium JSON records -> typed :class:`bridge.events.ChangeEvent`.

Start-up: ``DecodeSettings.from_connector_config(name, config).validate(types)`` with
``types = read_column_types(connection, tables)``; then, per record,
``decode_record(key, value, settings, types, sequencer=...)``.
"""

from bridge.decode.catalog import read_column_types
from bridge.decode.columns import (
    ColumnKind,
    ColumnType,
    ColumnTypes,
    ReplicaIdentity,
    TableTypes,
)
from bridge.decode.envelope import RecordDecodeError, RecordDecoder, decode_record
from bridge.decode.logical import json_equal
from bridge.decode.position import PositionSequencer, render_lsn
from bridge.decode.settings import DecodeSettings

__all__ = [
    "ColumnKind",
    "ColumnType",
    "ColumnTypes",
    "DecodeSettings",
    "PositionSequencer",
    "RecordDecodeError",
    "RecordDecoder",
    "ReplicaIdentity",
    "TableTypes",
    "decode_record",
    "json_equal",
    "read_column_types",
    "render_lsn",
]
