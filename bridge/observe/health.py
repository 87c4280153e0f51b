"""Readiness: named checks the pipeline registers, run on every ``/readyz`` request.

A check is a callable returning ``None`` when all is well or a sentence saying what is
wrong. A check that raises counts as failing with the exception's message (redacted:
driver errors may quote a connection URL).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.observe.lag import LagTracker
from bridge.observe.logging import Redactor

logger = logging.getLogger(__name__)

Check = Callable[[], str | None]


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    reason: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "ok": self.ok}
        if self.reason is not None:
            entry["reason"] = self.reason
        return entry


class Readiness:
    """The registered checks, in registration order."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self._checks: dict[str, Check] = {}
        self._redact = redactor or Redactor()
        self._lock = threading.Lock()

    def add_check(self, name: str, check: Check) -> None:
        """Register *check* under *name*, replacing one of the same name."""
        with self._lock:
            self._checks[name] = check

    def remove_check(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def run(self) -> list[CheckResult]:
        with self._lock:
            checks = list(self._checks.items())
        return [self._run_one(name, check) for name, check in checks]

    def _run_one(self, name: str, check: Check) -> CheckResult:
        try:
            reason = check()
        except Exception as exc:  # any failure means "not ready"
            reason = f"check raised {type(exc).__name__}: {exc}"
            logger.warning("readiness check %s failed: %s", name, reason)

        if reason is None:
            return CheckResult(name, True)
        return CheckResult(name, False, self._redact(reason))


def report(results: list[CheckResult]) -> dict[str, Any]:
    """The ``/readyz`` body: overall readiness and each check's result."""
    return {
        "ready": all(result.ok for result in results),
        "checks": [result.to_json_dict() for result in results],
    }


def lag_check(tracker: LagTracker, pipeline: str, bound_seconds: float) -> Check:
    """A check failing while *pipeline*'s heartbeat lag is over *bound_seconds*."""

    def check() -> str | None:
        lag = tracker.lag(pipeline)
        if lag is None:
            return f"no heartbeat applied yet for pipeline {pipeline}"
        if lag > bound_seconds:
            return (
                f"lag of pipeline {pipeline} is {lag:.1f} s, over the bound of "
                f"{bound_seconds:.1f} s"
            )
        return None

    return check
