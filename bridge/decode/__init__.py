"""The decode stage: Debezium JSON records -> typed :class:`bridge.events.ChangeEvent`.

Start-up::

    settings = DecodeSettings.from_connector_config("connectors/x.json", config)
    types = read_column_types(connection, ["xyzg.xyxf_jg"])   # source catalog
    settings.validate(types)                                   # ConfigError or None
    decoder, sequencer = RecordDecoder(settings, types), PositionSequencer()

Per record: ``decoder.decode(key, value, sequencer=sequencer, topic=topic)`` (or
``decode_record(key, value, settings, types, sequencer=...)``), ``None`` for a
tombstone, :class:`RecordDecodeError` for a record that goes to the dead letters.
Records of the transaction topic (:func:`transaction_topic`) are not row changes:
:func:`decode_marker` gives their :class:`TransactionMarker` (BEGIN/END).

Where the type of a value comes from, in order: the record's schema (logical name),
then the catalog hint (:class:`ColumnTypes`), then nothing. With neither schema nor
hint (schemas disabled and the table missing from the hint, which is logged once as a
warning) every value stays as JSON gave it:

================================  ===================================================
source type                       value without schema and hint
================================  ===================================================
integers, ``TINYINT(1)``, YEAR    ``int`` as sent (``BIGINT UNSIGNED`` above 2**63-1
                                  stays Java's negative long in ``long`` mode)
boolean, ``BIT(1)``               ``bool``
float, double                     ``float``
decimal (``string`` mode)         ``str`` such as ``"7.90"``
date                              ``int`` days since 1970-01-01
time                              ``int`` microseconds (milliseconds for PostgreSQL
                                  ``time(0..3)`` in ``adaptive`` mode)
``DATETIME``, ``timestamp``        ``int`` milliseconds (precision 0-3) or
                                  microseconds (4-6) of the wall clock
``TIMESTAMP``, ``timestamptz``     ``str`` ISO instant ending in ``Z``
``timetz``                        ``str`` such as ``"08:52:14.431487Z"``
binary, bits                      ``str`` base64 (hex in ``hex`` mode)
JSON, UUID, ENUM, text            ``str``
SET                               ``str`` with commas, such as ``"a,b"``
interval                          ``int`` microseconds, or ``str`` in ``string`` mode
TOAST placeholder                 :data:`bridge.events.UNAVAILABLE` (always checked)
================================  ===================================================

With schemas enabled but no hint, everything with a logical name is decoded; only
``string``-mode decimals (plain strings), base64/hex-mode binaries (plain strings) and
unsigned BIGINTs (plain int64) stay as sent.
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
from bridge.decode.markers import TransactionMarker, decode_marker, transaction_topic
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
    "TransactionMarker",
    "decode_marker",
    "decode_record",
    "json_equal",
    "read_column_types",
    "render_lsn",
    "transaction_topic",
]
