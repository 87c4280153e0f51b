"""Injected crashes for the exactly-once tests.

With ``CREDITBRIDGE_FAULT`` set to a step name, the process kills itself with SIGKILL
when it reaches that step, exactly as an operator's ``kill -9`` would. Unset, each
check is one environment lookup.
"""

from __future__ import annotations

import os
import signal

FAULT_VARIABLE = "CREDITBRIDGE_FAULT"
STEPS = ("after_rows", "after_dead_letters", "after_checkpoint", "after_commit")


def fault_point(step: str) -> None:
    """Die here if the environment asks for a crash at *step*."""
    if os.environ.get(FAULT_VARIABLE) == step:
        os.kill(os.getpid(), signal.SIGKILL)
