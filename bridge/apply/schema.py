"""The bridge's own tables: checkpoint, Kafka offsets, dead letters, conflicts, and
the held events of source transactions not yet complete.

They live apart from the registries' tables, in PostgreSQL schema ``bridge`` and MySQL
database ``bridge``. :func:`install_bridge_tables` is idempotent; ``dev up`` calls it
with an admin connection and then grants the writer account DML on :data:`TABLE_NAMES`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

from bridge.apply.dialects import dialect_for

log = logging.getLogger(__name__)

NAMESPACE = "bridge"
metadata = sa.MetaData(schema=NAMESPACE)

# Instants are stored in UTC with microseconds on both sides.
Instant = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql")
Document = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
Name = sa.String(191)  # 191 x 4 bytes fits an InnoDB index prefix in utf8mb4

checkpoint = sa.Table(
    "checkpoint",
    metadata,
    sa.Column("pipeline", Name, primary_key=True),
    sa.Column("source", Name, nullable=False),
    sa.Column("position", Document, nullable=False, comment="SourcePosition JSON"),
    sa.Column("position_order", sa.String(400), nullable=False, comment="JSON list"),
    sa.Column("updated_at", Instant, nullable=False),
    mysql_charset="utf8mb4",
    mysql_engine="InnoDB",
)

kafka_offset = sa.Table(
    "kafka_offset",
    metadata,
    sa.Column("pipeline", Name, primary_key=True),
    sa.Column("topic", Name, primary_key=True),
    sa.Column("kafka_partition", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Instant, nullable=False),
    mysql_charset="utf8mb4",
    mysql_engine="InnoDB",
)

dead_letter = sa.Table(
    "dead_letter",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("pipeline", Name, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("source_table", Name, nullable=False),
    sa.Column("target_table", Name),
    sa.Column("event_key", Document, nullable=False, comment="key JSON"),
    sa.Column("source_position", Document, nullable=False),
    sa.Column("position_order", sa.String(400), nullable=False),
    sa.Column("event", Document, nullable=False, comment="ChangeEvent, typed JSON"),
    sa.Column("raw_event", Document, comment="the record as Debezium sent it"),
    sa.Column("mapping_name", Name, nullable=False),
    sa.Column("mapping_path", sa.String(1000), nullable=False),
    sa.Column("mapping_version", Name, nullable=False),
    sa.Column("error_class", Name, nullable=False),
    sa.Column("error_code", sa.String(16)),
    sa.Column("message", Document, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="new"),
    sa.Column("discard_reason", Document),
    sa.Column("replayed_at", Instant),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("pipeline", "fingerprint", name="uq_dead_letter_event"),
    sa.Index("ix_dead_letter_status", "pipeline", "status"),
    mysql_charset="utf8mb4",
    mysql_engine="InnoDB",
)

conflict = sa.Table(
    "conflict",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("pipeline", Name, nullable=False),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("target_table", Name, nullable=False),
    sa.Column("target_key", Document, nullable=False),
    sa.Column("row_values", Document, nullable=False, comment="typed JSON"),
    sa.Column("event", Document, nullable=False),
    sa.Column("source_position", Document, nullable=False),
    sa.Column("mapping_name", Name, nullable=False),
    sa.Column("mapping_version", Name, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="parked"),
    mysql_charset="utf8mb4",
    mysql_engine="InnoDB",
)

# Events of a source transaction whose END has not arrived yet, held in the target
# until it does (bridge.apply.pending); seq keeps their delivery order.
pending_event = sa.Table(
    "pending_event",
    metadata,
    sa.Column("pipeline", Name, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("transaction_id", Name, nullable=False),
    sa.Column("event", Document, nullable=False, comment="ChangeEvent, typed JSON"),
    sa.Column("held_at", Instant, nullable=False),
    mysql_charset="utf8mb4",
    mysql_engine="InnoDB",
)

TABLE_NAMES = tuple(table.name for table in metadata.sorted_tables)


def install_bridge_tables(connection: Connection, dialect_name: str) -> None:
    """Create the ``bridge`` namespace and its tables where missing (idempotent)."""
    dialect_for(dialect_name).create_namespace(connection, NAMESPACE)
    metadata.create_all(connection, checkfirst=True)
    log.info("bridge tables ready in %s namespace %s", dialect_name, NAMESPACE)
