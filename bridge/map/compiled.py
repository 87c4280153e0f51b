"""A compiled mapping: what the pipeline calls once per change event.

Every column is compiled at load time into one closure that reads the source row and
runs its transform chain, so :meth:`Mapping.apply` is a loop over closures with no
parsing or lookups by name left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping as RowMapping
from dataclasses import dataclass
from typing import Any, Final

from bridge.errors import MappingError
from bridge.events import UNAVAILABLE, ChangeEvent, Operation
from bridge.map.expressions import EvaluationError
from bridge.map.results import (
    Filtered,
    MappingRef,
    MapResult,
    Rejection,
    TargetOperation,
    TargetRow,
)
from bridge.map.transforms import RowRejected, Step

log = logging.getLogger(__name__)

Row = RowMapping[str, Any]
SKIP: Final = object()
"""A column that is not written: its source value is UNAVAILABLE (TOAST)."""

_ERROR_CLASS: Final = "MappingError"


@dataclass(frozen=True, slots=True)
class DeletePolicy:
    """What a source delete does: ``delete``, ``soft_delete`` (sets ``column``),
    or ``ignore``."""

    policy: str
    column: str | None = None


@dataclass(frozen=True, slots=True)
class ConflictPolicy:
    """How apply settles a row the target changed too.

    ``newer_wins`` by ``column`` (the default), ``source_wins``, ``target_wins`` or
    ``park`` (to the conflict table). The map stage only carries it.
    """

    policy: str
    column: str | None = None


@dataclass(frozen=True, slots=True)
class MetadataColumns:
    """Target columns the apply stage fills; ``None`` where the target has none."""

    origin: str | None = None
    origin_value: str | None = None
    source_position: str | None = None
    source_commit_time: str | None = None
    applied_at: str | None = None

    def names(self) -> list[str]:
        columns = (
            self.origin,
            self.source_position,
            self.source_commit_time,
            self.applied_at,
        )
        return [c for c in columns if c is not None]


@dataclass(frozen=True, slots=True)
class Column:
    """One compiled target column.

    ``source`` is the ``from`` column (``None`` for ``const`` and ``expr``); ``reads``
    every source column the value depends on, including those read by computed map
    values. ``required`` columns (the target key, ``required`` transform) reject the
    row instead of being left out when their source is UNAVAILABLE.
    """

    target: str
    kind: str
    source: str | None
    reads: frozenset[str]
    steps: tuple[Step, ...]
    convert: Callable[[Row], Any]
    fast: Callable[[Row], Any]
    const: Any = None
    invertible: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    where: str
    reason: str
    reads: frozenset[str]
    keep: Callable[[Row], Any]


@dataclass(frozen=True, slots=True)
class ReverseColumn:
    """How one source column is computed back from a target row.

    ``rule`` is the compiled ``reverse:`` entry of a stated rule (``None`` when the
    way back is derived), so ``check`` can test its values against the source table.
    """

    source: str
    derived: bool
    reads: frozenset[str]
    convert: Callable[[Row], Any]
    rule: Column | None = None


class Mapping:
    """One source table to one target table, compiled from a mapping file."""

    def __init__(
        self,
        *,
        ref: MappingRef,
        source_table: str,
        target_table: str,
        target_key: tuple[str, ...],
        two_way: bool,
        zone: str,
        columns: tuple[Column, ...],
        filters: tuple[Filter, ...],
        reverse_columns: tuple[ReverseColumn, ...],
        delete_policy: DeletePolicy,
        conflict: ConflictPolicy,
        metadata_columns: MetadataColumns,
        domains: dict[str, tuple[Any, ...]],
    ) -> None:
        self.ref = ref
        self.source_table = source_table
        self.target_table = target_table
        self.target_key = target_key
        self.two_way = two_way
        self.zone = zone
        self.columns = columns
        self.filters = filters
        self.reverse_columns = reverse_columns
        self.delete_policy = delete_policy
        self.conflict = conflict
        self.metadata_columns = metadata_columns
        self.domains = domains
        self._key_columns = tuple(c for c in columns if c.target in target_key)
        self._fast = tuple((c.target, c.fast) for c in columns)

    def __repr__(self) -> str:
        return (
            f"<Mapping {self.ref.name} {self.source_table} -> {self.target_table} "
            f"{self.ref.version}>"
        )

    @property
    def invertible_columns(self) -> tuple[str, ...]:
        """Target columns whose reverse is derived, so a round trip is identical."""
        return tuple(c.target for c in self.columns if c.invertible)

    def apply(self, event: ChangeEvent) -> MapResult:
        """Map one change event to a target row, a rejection or a filtered outcome."""
        if event.op is Operation.DELETE:
            return self._apply_delete(event)
        image = event.after
        if image is None:
            return self._reject(event, "the event has no after-image to map")
        try:
            outcome = self._filter(event, image, partial=False)
            if outcome is not None:
                return outcome
            values = self._values(image)
        except (RowRejected, EvaluationError) as exc:
            return self._reject(event, _reason(exc))
        return self._upsert(event, values)

    def map_row(self, row: Row) -> dict[str, Any]:
        """The target values of a source row, filters not applied (``preview``).

        Raises ``MappingError`` when a value cannot be mapped.
        """
        try:
            return self._values(row)
        except (RowRejected, EvaluationError) as exc:
            raise MappingError(f"mapping {self.ref.name}: {_reason(exc)}") from exc

    def reverse(self, row: Row) -> dict[str, Any]:
        """The source row a target row came from, for a two-way mapping.

        Raises ``MappingError`` for a one-way mapping or a value that cannot go back.
        """
        if not self.two_way:
            raise MappingError(
                f"mapping {self.ref.name} ({self.ref.path}) is one-way; it has no "
                "reverse. Declare 'direction: two_way' to derive one."
            )
        result: dict[str, Any] = {}
        for column in self.reverse_columns:
            try:
                result[column.source] = column.convert(row)
            except (RowRejected, EvaluationError) as exc:
                raise MappingError(
                    f"mapping {self.ref.name}: reverse of {column.source}: "
                    f"{_reason(exc)}"
                ) from exc
        return result

    def _values(self, image: Row) -> dict[str, Any]:
        if UNAVAILABLE not in image.values():
            return {target: fast(image) for target, fast in self._fast}
        values: dict[str, Any] = {}
        for column in self.columns:
            value = column.convert(image)
            if value is not SKIP:
                values[column.target] = value
        return values

    def _filter(
        self, event: ChangeEvent, image: Row, *, partial: bool
    ) -> Filtered | None:
        for rule in self.filters:
            if partial and not _complete(image, rule.reads):
                # A delete's before-image may lack the filter's columns. The delete is
                # then resolved by key alone: it only touches rows this mapping wrote.
                continue
            if not rule.keep(image):
                return Filtered(event, self.ref, f"{rule.name}: {rule.reason}")
        return None

    def _upsert(self, event: ChangeEvent, values: dict[str, Any]) -> MapResult:
        key: dict[str, Any] = {}
        for name in self.target_key:
            value = values.get(name)
            if value is None:
                return self._reject(
                    event,
                    f"target key column {name} is "
                    f"{'NULL' if name in values else 'not available in the event'}",
                )
            key[name] = value
        return TargetRow(
            self.target_table, TargetOperation.UPSERT, key, values, event, self.ref
        )

    def _apply_delete(self, event: ChangeEvent) -> MapResult:
        if self.delete_policy.policy == "ignore":
            return Filtered(
                event,
                self.ref,
                "delete ignored: the mapping's on_delete policy is ignore",
            )
        image = _delete_image(event)
        try:
            outcome = self._filter(event, image, partial=True)
            if outcome is not None:
                return outcome
            key = self._delete_key(image)
        except (RowRejected, EvaluationError) as exc:
            return self._reject(event, _reason(exc))
        if self.delete_policy.policy == "delete":
            return TargetRow(
                self.target_table, TargetOperation.DELETE, key, {}, event, self.ref
            )
        assert self.delete_policy.column is not None
        values = {self.delete_policy.column: event.committed_at}
        return TargetRow(
            self.target_table, TargetOperation.SOFT_DELETE, key, values, event, self.ref
        )

    def _delete_key(self, image: Row) -> dict[str, Any]:
        key: dict[str, Any] = {}
        for column in self._key_columns:
            missing = sorted(n for n in column.reads if not _present(image, n))
            if missing:
                raise RowRejected(
                    f"the delete's before-image is incomplete: target key column "
                    f"{column.target} is built from {', '.join(missing)}, which the "
                    "before-image does not hold (set REPLICA IDENTITY FULL on the "
                    "source table, or build the key from the source primary key)"
                )
            key[column.target] = column.convert(image)
        return key

    def _reject(self, event: ChangeEvent, reason: str) -> Rejection:
        log.debug("mapping %s rejected a row: %s", self.ref.name, reason)
        return Rejection(event, self.ref, _ERROR_CLASS, reason)


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, RowRejected) else str(exc)


def _present(image: Row, name: str) -> bool:
    value = image.get(name)
    return value is not None and value is not UNAVAILABLE


def _complete(image: Row, names: frozenset[str]) -> bool:
    return all(_present(image, n) for n in names)


def _delete_image(event: ChangeEvent) -> dict[str, Any]:
    """The before-image with the event key laid over it (the key is always complete)."""
    image: dict[str, Any] = dict(event.before) if event.before is not None else {}
    image.update(event.key)
    return image
