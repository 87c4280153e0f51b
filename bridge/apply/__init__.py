"""Apply stage: write map results into the target, with dead letters and retries.

Public API::

    engine = make_engine(url)                      # UTC, strict sessions
    install_bridge_tables(connection, "mysql")     # bridge.checkpoint, dead_letter ...
    applier = Applier(engine, policies={"gsxt.E_CR_REPAIR_XYZG": ConflictPolicy()})
    report = applier.apply_batch("xyzg-to-gsxt", results)   # commits, then returns
"""

from bridge.apply.applier import Applier, ApplyReport
from bridge.apply.engine import make_engine
from bridge.apply.policy import ConflictKind, ConflictPolicy
from bridge.apply.retry import RetrySettings
from bridge.apply.schema import install_bridge_tables

__all__ = [
    "Applier",
    "ApplyReport",
    "ConflictKind",
    "ConflictPolicy",
    "RetrySettings",
    "install_bridge_tables",
    "make_engine",
]
