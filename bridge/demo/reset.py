"""Put the demo pipelines back to their first start: empty tables, no bridge state.

The demo and the end-to-end tests call :func:`reset_demo` (holding
:func:`bridge.demo.lock.demo_lock`) before each run, so that one run's rows,
checkpoints, connector offsets or replication slot never leak into the next. With no
offsets and no slot, the next start snapshots the (empty) native tables and streams
from there, so changes made before the reset are never delivered.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from bridge.apply.schema import metadata as bridge_metadata
from bridge.capture.connectors import history_file, offsets_file
from bridge.devenv.model import DevEnv, Server
from bridge.errors import DevEnvError

log = logging.getLogger(__name__)

PIPELINES = ("xyzg-to-gsxt", "gsxt-to-xyzg")
CONNECTORS = ("credit-china-outcomes", "necips-outcomes")
PG_SLOT = "creditbridge_credit_china"
PG_TABLES = ("xyzg.xyxf_jg", "xyzg.xyxf_jg_gsxt", "xyzg.xzcf_gs")
MYSQL_TABLES = ("gsxt.E_CR_REPAIR", "gsxt.E_CR_REPAIR_XYZG", "gsxt.E_CASE_PUB")
BRIDGE_TABLES = (
    "checkpoint",
    "kafka_offset",
    "dead_letter",
    "conflict",
    "pending_event",
)


def reset_demo(env: DevEnv, home: Path) -> None:
    """Empty the demo tables and forget every position of the demo pipelines.

    *home* is the run configuration's home (where the connector offsets live). Raises
    :class:`DevEnvError` when a bridge still streams from the demo slot.
    """
    _drop_slot(env.postgres)
    _reset_database(env.postgres, PG_TABLES, "TRUNCATE TABLE {}")
    _reset_database(env.mysql, MYSQL_TABLES, "DELETE FROM {}")
    for name in CONNECTORS:
        offsets_file(home, name).unlink(missing_ok=True)
        history_file(home, name).unlink(missing_ok=True)
    log.info("demo reset: tables emptied, offsets and slot %s dropped", PG_SLOT)


def _drop_slot(server: Server) -> None:
    engine = sa.create_engine(server.url("admin"), poolclass=sa.NullPool)
    query = sa.text(
        "SELECT active_pid FROM pg_replication_slots WHERE slot_name = :slot"
    )
    try:
        with engine.begin() as connection:
            row = connection.execute(query, {"slot": PG_SLOT}).first()
            if row is None:
                return
            if row.active_pid is not None:
                raise DevEnvError(
                    f"replication slot {PG_SLOT} is in use by server process "
                    f"{row.active_pid}: a bridge is still running on the demo "
                    "pipelines; stop it, then reset again"
                )
            connection.execute(
                sa.text("SELECT pg_drop_replication_slot(:slot)"), {"slot": PG_SLOT}
            )
    finally:
        engine.dispose()


def _reset_database(server: Server, tables: tuple[str, ...], empty: str) -> None:
    # DELETE rather than TRUNCATE on MySQL: TRUNCATE is DDL there and would land in
    # the connector's schema history.
    engine = sa.create_engine(server.url("admin"), poolclass=sa.NullPool)
    # Every bridge table keyed by pipeline: checkpoints, dead letters, held
    # transaction tails, Kafka offsets, parked conflicts.
    bookkeeping = [t for t in bridge_metadata.sorted_tables if "pipeline" in t.c]
    try:
        with engine.begin() as connection:
            for table in tables:
                connection.execute(sa.text(empty.format(table)))
            for bridge_table in bookkeeping:
                pipeline = bridge_table.c.pipeline
                connection.execute(bridge_table.delete().where(pipeline.in_(PIPELINES)))
    except sa.exc.DBAPIError as exc:
        raise DevEnvError(
            f"resetting the demo tables on {server.kind} {server.host}:{server.port} "
            f"failed: {exc.orig}; nothing was started"
        ) from exc
    finally:
        engine.dispose()
