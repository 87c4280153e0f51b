"""Play the scripted day against the running bridge and record what each step did.

Each step is one registry's act (an outcome INSERTed into its native table, or a
penalty published). The player then watches the other registry until the bridge has
staged the outcome, dead-lettered it or filtered it, and reads the penalty's display
state on both sides before and after.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bridge.demo.registries import DeadLetter, Displayed, Registries
from bridge.demo.scenario import (
    CREDIT_CHINA,
    NECIPS,
    STEPS,
    Expect,
    OutcomeStep,
    PublishStep,
    Shown,
    Step,
)
from bridge.observe.metrics import Metrics

log = logging.getLogger(__name__)

PIPELINE_FROM = {CREDIT_CHINA: "xyzg-to-gsxt", NECIPS: "gsxt-to-xyzg"}
TARGET_OF = {"xyzg-to-gsxt": NECIPS, "gsxt-to-xyzg": CREDIT_CHINA}
_HEARTBEAT_REASON = "heartbeat"
_POLL_SECONDS = 0.05


@dataclass
class StepResult:
    """What one step did, filled in as it happens."""

    step: Step
    before: tuple[Shown, Shown]
    after: tuple[Shown, Shown] | None = None
    committed: datetime | None = None
    applied: datetime | None = None
    observed: Expect | None = None  # None while waiting, or when it timed out
    note: str = ""  # the dead letter's message or the filter's reason
    done: bool = False

    @property
    def latency(self) -> float | None:
        if self.committed is None or self.applied is None:
            return None
        return (self.applied - self.committed).total_seconds()

    @property
    def as_expected(self) -> bool:
        return self.observed is self.step.expect and self.after == self.step.after


@dataclass
class Snapshot:
    """The base outcomes Debezium's first snapshot carried across, each way."""

    to_necips: int
    to_credit_china: int
    seconds: float
    natural_persons: int = 0  # Credit China outcomes the privacy rule kept back


@dataclass
class DayReport:
    """Everything the summary says."""

    before: Displayed
    snapshot: Snapshot
    results: list[StepResult] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    after: Displayed | None = None

    def shared(self, side: str) -> int:
        """Outcomes of the day decided on *side* and staged on the other."""
        return sum(
            1
            for r in self.results
            if isinstance(r.step, OutcomeStep)
            and r.step.side == side
            and r.observed is Expect.CROSSES
        )

    def latencies(self) -> list[float]:
        return [r.latency for r in self.results if r.latency is not None]

    def p50(self) -> float | None:
        values = self.latencies()
        return statistics.median(values) if values else None

    def expected_steps(self) -> int:
        return sum(1 for r in self.results if r.as_expected)

    @property
    def ok(self) -> bool:
        return (
            self.after is not None
            and self.after.agree
            and len(self.results) == len(STEPS)
            and self.expected_steps() == len(STEPS)
        )


Update = Callable[[StepResult], None]


class DayPlayer:
    """Plays :data:`bridge.demo.scenario.STEPS` one by one."""

    def __init__(
        self,
        registries: Registries,
        metrics: Metrics,
        *,
        pace: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        self._registries = registries
        self._metrics = metrics
        self._pace = pace
        self._timeout = timeout

    def wait_for_snapshot(self, timeout: float = 180.0) -> Snapshot:
        """Block until every base outcome has been staged on the other side."""
        started = time.monotonic()
        wanted = self._registries.native_counts()
        persons = self._registries.natural_person_outcomes()
        log.info("waiting for the snapshot: %s outcomes to stage each way", wanted)
        while True:
            staged = self._registries.staged_counts()
            log.debug("snapshot: staged %s of %s", staged, wanted)
            if staged[0] >= wanted[0] and staged[1] >= wanted[1]:
                seconds = time.monotonic() - started
                log.info("snapshot staged %s in %.1f s", staged, seconds)
                return Snapshot(staged[0], staged[1], seconds, persons)
            if time.monotonic() - started > timeout:
                log.warning(
                    "snapshot incomplete after %.0f s: staged %s of %s", timeout,
                    staged, wanted,
                )
                seconds = time.monotonic() - started
                return Snapshot(staged[0], staged[1], seconds, persons)
            time.sleep(0.2)

    def play(self, step: Step, started: Update, finished: Update) -> StepResult:
        """Do *step*, wait for the bridge, and report through the two callbacks."""
        result = StepResult(step, before=self._registries.shown(step.penalty))
        started(result)
        if isinstance(step, PublishStep):
            result.committed = self._registries.publish(step.side, [step.penalty])
            result.observed = Expect.PUBLISHED
        else:
            filtered_before = self.filtered_reasons(PIPELINE_FROM[step.side])
            result.committed = self._registries.record_outcome(step)
            self._await_bridge(step, result, filtered_before)
        result.after = self._registries.shown(step.penalty)
        result.done = True
        finished(result)
        if self._pace > 0:
            time.sleep(self._pace)
        return result

    def _await_bridge(
        self, step: OutcomeStep, result: StepResult, filtered_before: dict[str, int]
    ) -> None:
        pipeline = PIPELINE_FROM[step.side]
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            staged = self._registries.staged(step)
            if staged is not None:
                result.applied, result.observed = staged.applied_at, Expect.CROSSES
                return
            letter = self._dead_letter(pipeline, step.number)
            if letter is not None:
                result.observed, result.note = Expect.DEAD_LETTER, letter.message
                return
            grown = [
                reason
                for reason, count in self.filtered_reasons(pipeline).items()
                if count > filtered_before.get(reason, 0)
            ]
            if grown:
                result.observed, result.note = Expect.FILTERED, "; ".join(grown)
                return
            time.sleep(_POLL_SECONDS)
        log.warning("step %s: nothing seen within %.0f s", step.number, self._timeout)

    def _dead_letter(self, pipeline: str, number: str) -> DeadLetter | None:
        letters = self._registries.dead_letters({pipeline: TARGET_OF[pipeline]})
        return next((d for d in letters if number in d.event_key), None)

    def filtered_reasons(self, pipeline: str) -> dict[str, int]:
        """Events *pipeline* filtered since start, by reason (heartbeats left out)."""
        reasons: dict[str, int] = {}
        for metric in self._metrics.filtered.collect():
            for sample in metric.samples:
                labels = sample.labels
                if (
                    sample.name.endswith("_total")
                    and labels.get("pipeline") == pipeline
                    and labels.get("reason") != _HEARTBEAT_REASON
                ):
                    reasons[labels["reason"]] = int(sample.value)
        return reasons

    def finish(self, report: DayReport) -> None:
        """Fill in the end state: dead letters and both display views."""
        report.dead_letters = self._registries.dead_letters(TARGET_OF)
        report.after = self._registries.displayed()
