"""Engines for target databases, with the bridge's settings on every session."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from bridge.apply.dialects import dialect_for


def make_engine(url: str | URL, **options: object) -> Engine:
    """An engine whose sessions run in UTC (and strict mode on MySQL)."""
    engine = sa.create_engine(url, pool_pre_ping=True, **options)
    dialect_for(engine.dialect.name).configure_engine(engine)
    return engine
