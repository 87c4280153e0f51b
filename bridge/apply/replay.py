"""Working the dead-letter table: replay with the current mapping, or discard.

Replay rebuilds the stored change event, runs the mapping file it came from *as it is
now* and writes the result; a fixed mapping therefore re-drives the row. The dead letter
is locked, written and marked ``replayed`` in one transaction, so replaying twice
applies once. Replay never moves a checkpoint.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine

from bridge.apply import deadletter
from bridge.apply.applier import Applier, translate_errors
from bridge.apply.deadletter import DeadLetter, Status
from bridge.apply.dialects import dialect_for
from bridge.apply.eventjson import event_from_json
from bridge.apply.retry import RetrySettings, run_with_retries
from bridge.errors import ConfigError
from bridge.map.results import Filtered, Rejection, TargetRow

log = logging.getLogger(__name__)

MappingLoader = Callable[[str], Any]
"""Path of a mapping file -> object with ``.apply(event) -> MapResult``."""


class ReplayResult(enum.StrEnum):
    REPLAYED = "replayed"
    FAILED = "failed again"
    DISCARDED = "discarded"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    letter_id: int
    result: ReplayResult
    message: str


class DeadLetterDesk:
    """Replays and discards the dead letters of one target database."""

    def __init__(
        self,
        engine: Engine,
        load_mapping: MappingLoader | None = None,
        retry: RetrySettings | None = None,
    ) -> None:
        self.engine = engine
        self.retry = retry or RetrySettings(attempts=5)
        self._load = load_mapping or _default_loader
        self._mappings: dict[str, Any] = {}

    def pending_ids(self, pipeline: str | None = None) -> list[int]:
        with self.engine.connect() as connection:
            letters = deadletter.list_letters(connection, pipeline, Status.NEW, 10**9)
        return [int(letter.id) for letter in letters]

    def replay(
        self,
        letter_ids: Iterable[int],
        progress: Callable[[ReplayOutcome], None] | None = None,
    ) -> list[ReplayOutcome]:
        outcomes = []
        for letter_id in letter_ids:
            outcome = run_with_retries(
                lambda letter_id=letter_id: self._replay_one(letter_id),  # type: ignore[misc]
                self.retry,
                f"replay of dead letter {letter_id}",
            )
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
        return outcomes

    def discard(self, letter_id: int, reason: str) -> ReplayOutcome:
        with self.engine.begin() as connection:
            letter = self._letter(connection, letter_id)
            if letter.status != Status.NEW:
                return _skipped(letter_id, letter.status)
            deadletter.mark_discarded(connection, letter_id, reason)
        log.info("dead letter %s discarded: %s", letter_id, reason)
        return ReplayOutcome(letter_id, ReplayResult.DISCARDED, reason)

    def _replay_one(self, letter_id: int) -> ReplayOutcome:
        dialect = dialect_for(self.engine.dialect.name)
        where = f"replay of dead letter {letter_id}"
        with translate_errors(dialect, where), self.engine.begin() as connection:
            letter = self._letter(connection, letter_id)
            if letter.status != Status.NEW:
                return _skipped(letter_id, letter.status)
            try:
                mapping = self._mapping(letter.mapping_path)
            except ConfigError as exc:
                # One unreadable mapping file must not hold up the other letters.
                log.warning("dead letter %s not replayed: %s", letter_id, exc)
                return ReplayOutcome(letter_id, ReplayResult.FAILED, str(exc))
            result = mapping.apply(event_from_json(letter.event))
            outcome = self._settle(connection, letter, mapping, result)
        log.info("dead letter %s: %s (%s)", letter_id, outcome.result, outcome.message)
        return outcome

    def _settle(
        self, connection: Connection, letter: Any, mapping: Any, result: Any
    ) -> ReplayOutcome:
        letter_id = int(letter.id)
        if isinstance(result, Filtered):
            reason = f"filtered by the current mapping: {result.reason}"
            deadletter.mark_discarded(connection, letter_id, reason)
            return ReplayOutcome(letter_id, ReplayResult.DISCARDED, reason)
        if isinstance(result, Rejection):
            failure = DeadLetter(
                result.event, result.mapping, result.error_class, result.reason
            )
            deadletter.refresh_error(connection, letter_id, failure)
            return ReplayOutcome(letter_id, ReplayResult.FAILED, result.reason)

        assert isinstance(result, TargetRow)
        applier = Applier.for_mappings(self.engine, [mapping], retry=self.retry)
        failures = applier.write_rows(connection, letter.pipeline, [result])
        if failures:
            deadletter.refresh_error(connection, letter_id, failures[0])
            return ReplayOutcome(letter_id, ReplayResult.FAILED, failures[0].message)
        deadletter.mark_replayed(connection, letter_id)
        return ReplayOutcome(
            letter_id, ReplayResult.REPLAYED, f"written to {result.table}"
        )

    def _letter(self, connection: Connection, letter_id: int) -> Any:
        letter = deadletter.get_letter(connection, letter_id, lock=True)
        if letter is None:
            raise ConfigError(
                f"dead letter {letter_id} does not exist in {self.engine.url!r}; "
                "nothing was changed (see 'creditbridge dlq list')"
            )
        return letter

    def _mapping(self, path: str) -> Any:
        if path not in self._mappings:
            self._mappings[path] = self._load(path)
        return self._mappings[path]


def _skipped(letter_id: int, status: str) -> ReplayOutcome:
    return ReplayOutcome(letter_id, ReplayResult.SKIPPED, f"already {status}")


def _default_loader(path: str) -> Any:
    from bridge.map import load_mapping

    return load_mapping(path)
