"""Fixtures shared by the whole suite: the local dev servers.

``dev_env`` starts (or reuses) the shared local PostgreSQL and MySQL once per session;
tests that use it are marked ``db``. ``scripts/test`` brings the servers up first, so
this only waits on the lock when they already run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from bridge.devenv.api import DevEnv, ensure_up
from bridge.devenv.model import Kind, Role


@pytest.fixture(scope="session")
def dev_env() -> DevEnv:
    """The shared dev servers, up, with schemas and accounts installed."""
    return ensure_up()


@pytest.fixture
def engine_for(dev_env: DevEnv) -> Iterator[Callable[[Kind, Role], sa.Engine]]:
    """Make engines for (server, role) pairs; all disposed after the test."""
    engines: list[sa.Engine] = []

    def make(kind: Kind, role: Role) -> sa.Engine:
        server = dev_env.postgres if kind == "postgresql" else dev_env.mysql
        engine = sa.create_engine(server.url(role))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
