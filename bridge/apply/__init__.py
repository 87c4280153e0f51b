"""Apply stage: write map results into the target, with dead letters and retries.

Public API::

    engine = make_engine(url)                      # UTC, strict sessions
    install_bridge_tables(connection, "mysql")     # bridge.checkpoint, dead_letter ...
    applier = Applier.for_mappings(engine, [mapping])
    report = applier.apply_batch("xyzg-to-gsxt", results)   # commits, then returns

Names are loaded on first use: the checkpoint stage imports :mod:`bridge.apply.schema`
and must not pull the applier (which imports the checkpoint stage) in with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.apply.applier import Applier, ApplyReport
    from bridge.apply.engine import make_engine
    from bridge.apply.policy import ConflictKind, ConflictPolicy
    from bridge.apply.retry import RetrySettings
    from bridge.apply.schema import install_bridge_tables

_EXPORTS = {
    "Applier": "bridge.apply.applier",
    "ApplyReport": "bridge.apply.applier",
    "ConflictKind": "bridge.apply.policy",
    "ConflictPolicy": "bridge.apply.policy",
    "RetrySettings": "bridge.apply.retry",
    "install_bridge_tables": "bridge.apply.schema",
    "make_engine": "bridge.apply.engine",
}

__all__ = [
    "Applier",
    "ApplyReport",
    "ConflictKind",
    "ConflictPolicy",
    "RetrySettings",
    "install_bridge_tables",
    "make_engine",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bridge.apply' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
