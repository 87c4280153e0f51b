"""Every retried error reaches the retry hook (the pipeline's retry metric)."""

from __future__ import annotations

from bridge.apply.retry import RetrySettings, run_with_retries
from bridge.errors import RetryableError


def test_each_retried_error_is_reported_once_before_the_retry() -> None:
    seen: list[str] = []
    failures = [RetryableError("deadlock 1213"), RetryableError("lost connection")]

    def work() -> str:
        if failures:
            raise failures.pop(0)
        return "committed"

    settings = RetrySettings(
        initial=0.0, maximum=0.0, on_retry=lambda e: seen.append(str(e))
    )

    assert run_with_retries(work, settings, "batch of 3 events") == "committed"
    assert seen == ["deadlock 1213", "lost connection"]
