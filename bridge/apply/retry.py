"""Retrying whole batches while the target database is away or busy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from bridge.errors import RetryableError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Exponential backoff from *initial* to *maximum* seconds.

    ``attempts=None`` retries until the database is back, which is what a running
    pipeline wants; tests and one-shot commands give up after a few attempts.
    """

    initial: float = 0.2
    maximum: float = 30.0
    attempts: int | None = None
    on_retry: Callable[[BaseException], None] | None = field(
        default=None, compare=False
    )
    """Told of every error that is retried (the retry metric)."""


def run_with_retries(work: Callable[[], T], settings: RetrySettings, what: str) -> T:
    """Run *work*, retrying :class:`RetryableError` with backoff; return its result."""
    stop: tenacity.stop.stop_base = (
        tenacity.stop_never
        if settings.attempts is None
        else tenacity.stop_after_attempt(settings.attempts)
    )
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(RetryableError),
        wait=tenacity.wait_exponential(
            multiplier=settings.initial, max=settings.maximum
        ),
        stop=stop,
        before_sleep=lambda state: _before_retry(state, what, settings),
        reraise=True,
    )
    return retrying(work)


def _before_retry(
    state: tenacity.RetryCallState, what: str, settings: RetrySettings
) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if settings.on_retry is not None and error is not None:
        settings.on_retry(error)
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning(
        "%s failed (attempt %s): %s; retrying in %.1f s",
        what,
        state.attempt_number,
        error,
        delay,
    )
