"""What ``/api/status``, the status page and ``creditbridge status`` show.

The pipeline implements :class:`StatusSource`; :class:`MemoryStatusSource` is the
simple in-memory implementation used by tests and by a pipeline that pushes its numbers
as it goes. :class:`History` keeps the recent lag and throughput samples the page draws.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Protocol

CORPS_CODE: Final = "660000"
"""The Xinjiang Production and Construction Corps: no official code, 660000 by habit."""

PROVINCES: Final = (
    ("110000", "Beijing"), ("120000", "Tianjin"), ("130000", "Hebei"),
    ("140000", "Shanxi"), ("150000", "Inner Mongolia"), ("210000", "Liaoning"),
    ("220000", "Jilin"), ("230000", "Heilongjiang"), ("310000", "Shanghai"),
    ("320000", "Jiangsu"), ("330000", "Zhejiang"), ("340000", "Anhui"),
    ("350000", "Fujian"), ("360000", "Jiangxi"), ("370000", "Shandong"),
    ("410000", "Henan"), ("420000", "Hubei"), ("430000", "Hunan"),
    ("440000", "Guangdong"), ("450000", "Guangxi"), ("460000", "Hainan"),
    ("500000", "Chongqing"), ("510000", "Sichuan"), ("520000", "Guizhou"),
    ("530000", "Yunnan"), ("540000", "Tibet"), ("610000", "Shaanxi"),
    ("620000", "Gansu"), ("630000", "Qinghai"), ("640000", "Ningxia"),
    ("650000", "Xinjiang"),
)
"""The 31 provinces (GB/T 2260 codes) as DOMAIN.md names them."""

HISTORY_SAMPLES: Final = 360


def provinces(corps_code: str = CORPS_CODE) -> list[tuple[str, str]]:
    """The 31 provinces and the Corps under *corps_code*: the 32 reporting units."""
    return [*PROVINCES, (corps_code, "Xinjiang Production and Construction Corps")]


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """One direction's state as an operator reads it."""

    name: str
    direction: str
    state: str
    lag_seconds: float | None = None
    last_position: str | None = None
    last_applied_at: datetime | None = None
    events_per_second: float | None = None
    applied_total: int | None = None
    dead_letters: int = 0
    slot_retained_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    """A row in the dead-letter table, its key already masked."""

    id: int
    pipeline: str
    table: str
    key: str
    error: str
    failed_at: datetime
    position: str | None = None


@dataclass(frozen=True, slots=True)
class ProvinceOutcomes:
    """Outcomes of one province shared today, each way."""

    code: str
    name: str
    to_necips: int = 0
    to_credit_china: int = 0


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class StatusReport:
    generated_at: datetime
    pipelines: list[PipelineStatus]
    lag_history: dict[str, list[Sample]] = field(default_factory=dict)
    throughput_history: dict[str, list[Sample]] = field(default_factory=dict)
    dead_letters: list[DeadLetterEntry] = field(default_factory=list)
    provinces: list[ProvinceOutcomes] = field(default_factory=list)
    replication_slots: dict[str, int] = field(default_factory=dict)
    origin: str = "bridge"
    """``bridge`` (the running process) or ``databases`` (its tables, read offline)."""
    problems: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON types; times as ISO 8601 UTC."""
        return _jsonable(asdict(self))  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class StatusSource(Protocol):
    """Whatever can say how the bridge is doing right now."""

    def status(self) -> StatusReport: ...


class History:
    """The last :data:`HISTORY_SAMPLES` lag and throughput samples per pipeline."""

    def __init__(self, size: int = HISTORY_SAMPLES) -> None:
        self._size = size
        self._lag: dict[str, deque[Sample]] = {}
        self._throughput: dict[str, deque[Sample]] = {}
        self._lock = threading.Lock()

    def record(
        self, pipeline: str, at: datetime, lag_seconds: float | None,
        events_per_second: float | None,
    ) -> None:
        """Add one sample; a ``None`` value (not known yet) is not drawn."""
        with self._lock:
            if lag_seconds is not None:
                self._series(self._lag, pipeline).append(Sample(at, lag_seconds))
            if events_per_second is not None:
                series = self._series(self._throughput, pipeline)
                series.append(Sample(at, events_per_second))

    def _series(self, table: dict[str, deque[Sample]], name: str) -> deque[Sample]:
        return table.setdefault(name, deque(maxlen=self._size))

    def lag(self) -> dict[str, list[Sample]]:
        with self._lock:
            return {name: list(samples) for name, samples in self._lag.items()}

    def throughput(self) -> dict[str, list[Sample]]:
        with self._lock:
            return {name: list(samples) for name, samples in self._throughput.items()}


class MemoryStatusSource:
    """A :class:`StatusSource` holding what it was told; safe across threads."""

    def __init__(
        self, corps_code: str = CORPS_CODE, now: Callable[[], datetime] | None = None
    ) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self.history = History()
        self._pipelines: dict[str, PipelineStatus] = {}
        self._dead_letters: list[DeadLetterEntry] = []
        self._provinces = {
            code: ProvinceOutcomes(code, name) for code, name in provinces(corps_code)
        }
        self._lock = threading.Lock()

    def set_pipeline(self, status: PipelineStatus) -> None:
        with self._lock:
            self._pipelines[status.name] = status

    def add_dead_letters(self, entries: Iterable[DeadLetterEntry]) -> None:
        with self._lock:
            self._dead_letters.extend(entries)

    def set_outcomes_today(
        self, to_necips: Mapping[str, int], to_credit_china: Mapping[str, int]
    ) -> None:
        """Today's shared outcomes by province code; unknown codes are refused."""
        unknown = sorted((set(to_necips) | set(to_credit_china)) - set(self._provinces))
        if unknown:
            raise ValueError(
                f"province codes {', '.join(unknown)} are not among the 32 reporting "
                "units; the counts were not recorded"
            )

        with self._lock:
            for code, province in self._provinces.items():
                self._provinces[code] = replace(
                    province,
                    to_necips=to_necips.get(code, 0),
                    to_credit_china=to_credit_china.get(code, 0),
                )

    def status(self) -> StatusReport:
        with self._lock:
            return StatusReport(
                generated_at=self._now(),
                pipelines=list(self._pipelines.values()),
                lag_history=self.history.lag(),
                throughput_history=self.history.throughput(),
                dead_letters=list(self._dead_letters),
                provinces=list(self._provinces.values()),
            )
