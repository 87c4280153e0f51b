"""The named transforms a mapping column chains after ``from``, ``const`` or ``expr``.

Each transform is compiled once, at load time, into a :class:`Step`: a forward
function, its inverse when the transform is invertible, and what it produces (for
``check``). A value a transform cannot convert raises :class:`RowRejected`; the
compiled mapping turns that into a :class:`~bridge.map.results.Rejection` naming the
column. ``None`` (SQL NULL) passes through every transform unchanged unless the
transform says otherwise (``required``, a ``map`` with a ``~`` key).
"""

from __future__ import annotations

import decimal
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from bridge.map import codes, timeconv

Row = Mapping[str, Any]
Convert = Callable[[Any, Row], Any]


class RowRejected(Exception):  # noqa: N818 - a row outcome, not a program error
    """A value cannot be mapped; its row goes to the dead-letter table."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransformParamError(Exception):
    """A transform's parameters are wrong; ``path`` is relative to the transform."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True, slots=True)
class Step:
    """One compiled transform.

    ``inverse`` is ``None`` when the transform loses information. ``normalizes`` marks
    transforms whose inverse is the identity on values already in canonical form
    (trim, upper, a checked USCC): a round trip is identical for canonical values.
    ``produces`` names the Python type of the output (``str``, ``int``, ``decimal``,
    ``date``, ``datetime``, ``bool``) when known; ``outputs`` lists every possible
    output of a value map, ``inputs`` its keys and ``catch_all`` whether it has a
    default; ``scale`` is the decimal places of a scaled amount.
    """

    name: str
    forward: Convert
    inverse: Convert | None = None
    normalizes: bool = False
    produces: str | None = None
    outputs: tuple[Any, ...] | None = None
    inputs: tuple[Any, ...] | None = None
    scale: int | None = None
    catch_all: bool = False
    row_names: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What a transform factory may use: the mapping's zone and expression compiler."""

    zone: str
    compile_expr: Callable[[str], tuple[Callable[[Row], Any], frozenset[str]]]


Factory = Callable[[Any, CompileContext], Step]
_FACTORIES: dict[str, Factory] = {}


def transform(name: str) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return register


def names() -> list[str]:
    return sorted(_FACTORIES)


def build(name: str, params: Any, ctx: CompileContext) -> Step:
    """Compile transform *name*; ``KeyError`` when no such transform exists."""
    return _FACTORIES[name](params, ctx)


def _no_params(name: str, params: Any) -> None:
    if params is not None:
        raise TransformParamError(f"transform {name!r} takes no parameters")


_DESCRIBED_KINDS: Final = (
    (bool, "boolean"),
    (int, "integer"),
    (Decimal, "decimal"),
    (float, "float"),
    (datetime, "date-time"),
    (date, "date"),
)


def _describe(value: Any) -> str:
    """*value* for a person: its kind in words and its plain text, never a repr.

    Text is quoted so that blanks show; ``datetime.datetime(2025, 12, 1, 14, 20)``
    reads ``date-time 2025-12-01 14:20:00``.
    """
    if isinstance(value, str):
        return f"text {value!r}"
    shown = value.isoformat(sep=" ") if isinstance(value, datetime) else value
    kinds = (word for cls, word in _DESCRIBED_KINDS if isinstance(value, cls))
    kind = next(kinds, None)
    return f"{kind or type(value).__name__} {shown}"


def _expect_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RowRejected(f"{name} expects text, got {_describe(value)}")
    return value


# --- text -------------------------------------------------------------------------


def _identity(value: Any, row: Row) -> Any:
    return value


@transform("trim")
def _trim(params: Any, ctx: CompileContext) -> Step:
    _no_params("trim", params)

    def forward(value: Any, row: Row) -> Any:
        return None if value is None else _expect_text("trim", value).strip()

    return Step("trim", forward, _identity, normalizes=True, produces="str")


@transform("upper")
def _upper(params: Any, ctx: CompileContext) -> Step:
    _no_params("upper", params)

    def forward(value: Any, row: Row) -> Any:
        return None if value is None else _expect_text("upper", value).upper()

    return Step("upper", forward, _identity, normalizes=True, produces="str")


@transform("nfkc")
def _nfkc(params: Any, ctx: CompileContext) -> Step:
    _no_params("nfkc", params)

    def forward(value: Any, row: Row) -> Any:
        if value is None:
            return None
        return unicodedata.normalize("NFKC", _expect_text("nfkc", value))

    return Step("nfkc", forward, _identity, normalizes=True, produces="str")


@transform("fold_decision_number")
def _fold_decision_number(params: Any, ctx: CompileContext) -> Step:
    _no_params("fold_decision_number", params)

    def forward(value: Any, row: Row) -> Any:
        if value is None:
            return None
        return codes.fold_decision_number(_expect_text("fold_decision_number", value))

    return Step("fold_decision_number", forward, None, produces="str")


@transform("uscc")
def _uscc(params: Any, ctx: CompileContext) -> Step:
    _no_params("uscc", params)

    def forward(value: Any, row: Row) -> Any:
        if value is None:
            return None
        code = _expect_text("uscc", value).strip().upper()
        problem = codes.uscc_problem(code)
        if problem is not None:
            raise RowRejected(problem)
        return code

    return Step("uscc", forward, _identity, normalizes=True, produces="str")


@transform("mask_id")
def _mask_id(params: Any, ctx: CompileContext) -> Step:
    _no_params("mask_id", params)

    def forward(value: Any, row: Row) -> Any:
        if value is None:
            return None
        return codes.mask_id_number(_expect_text("mask_id", value).strip())

    return Step("mask_id", forward, None, produces="str")


@transform("required")
def _required(params: Any, ctx: CompileContext) -> Step:
    _no_params("required", params)

    def forward(value: Any, row: Row) -> Any:
        if value is None:
            raise RowRejected("the value is NULL, but the column is required")
        return value

    return Step("required", forward, forward, normalizes=True)


# --- booleans ---------------------------------------------------------------------


def _bool_from_int_value(value: Any, row: Row) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RowRejected(f"bool_from_int expects an integer, got {_describe(value)}")
    return value != 0


def _int_from_bool_value(value: Any, row: Row) -> Any:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise RowRejected(f"int_from_bool expects a boolean, got {_describe(value)}")
    return 1 if value else 0


@transform("bool_from_int")
def _bool_from_int(params: Any, ctx: CompileContext) -> Step:
    _no_params("bool_from_int", params)
    # 2 and -1 become true as well (MySQL TINYINT(1)), so the way back is lossy.
    return Step("bool_from_int", _bool_from_int_value, None, produces="bool")


@transform("int_from_bool")
def _int_from_bool(params: Any, ctx: CompileContext) -> Step:
    _no_params("int_from_bool", params)
    return Step(
        "int_from_bool", _int_from_bool_value, _bool_from_int_value, produces="int"
    )


# --- time -------------------------------------------------------------------------


def _zone_param(name: str, params: Any, ctx: CompileContext) -> ZoneInfo:
    if params is None:
        return timeconv.zone(ctx.zone)
    if not isinstance(params, Mapping) or set(params) - {"zone"}:
        raise TransformParamError(f"transform {name!r} takes only 'zone'")
    zone_name = params.get("zone")
    if not isinstance(zone_name, str):
        raise TransformParamError("zone must be an IANA zone name", ("zone",))
    try:
        return timeconv.zone(zone_name)
    except Exception as exc:
        raise TransformParamError(str(exc), ("zone",)) from exc


def _time_call(name: str, kind: type, func: Callable[..., Any], *extra: Any) -> Convert:
    def convert(value: Any, row: Row) -> Any:
        if value is None:
            return None
        if not isinstance(value, kind):
            raise RowRejected(
                f"{name}: expects a {kind.__name__}; got {_describe(value)}"
            )
        try:
            return func(value, *extra)
        except (ValueError, OverflowError) as exc:
            raise RowRejected(f"{name}: {exc}; got {_describe(value)}") from exc

    return convert


@transform("utc_to_local")
def _utc_to_local(params: Any, ctx: CompileContext) -> Step:
    tz = _zone_param("utc_to_local", params, ctx)
    forward = _time_call("utc_to_local", datetime, timeconv.utc_to_local, tz)
    inverse = _time_call("local_to_utc", datetime, timeconv.local_to_utc, tz)
    return Step("utc_to_local", forward, inverse, produces="datetime")


@transform("local_to_utc")
def _local_to_utc(params: Any, ctx: CompileContext) -> Step:
    step = _utc_to_local(params, ctx)
    assert step.inverse is not None
    return Step("local_to_utc", step.inverse, step.forward, produces="datetime")


@transform("date_to_local_midnight")
def _date_to_local_midnight(params: Any, ctx: CompileContext) -> Step:
    _no_params("date_to_local_midnight", params)
    forward = _time_call(
        "date_to_local_midnight",
        date,
        timeconv.date_to_local_midnight,
    )
    inverse = _time_call(
        "local_datetime_to_date",
        datetime,
        timeconv.local_datetime_to_date,
    )
    return Step("date_to_local_midnight", forward, inverse, produces="datetime")


@transform("local_datetime_to_date")
def _local_datetime_to_date(params: Any, ctx: CompileContext) -> Step:
    _no_params("local_datetime_to_date", params)
    forward = _time_call(
        "local_datetime_to_date",
        datetime,
        timeconv.local_datetime_to_date,
    )
    # The time of day is dropped, so the way back (00:00) is stated in the file.
    return Step("local_datetime_to_date", forward, None, produces="date")


# --- amounts ----------------------------------------------------------------------

# Each unit as a power of ten of fen (1/100 yuan), and the decimal places it is
# written with. 万元 carries 6 places so that a fen is always representable.
UNITS: Final[dict[str, tuple[int, int]]] = {
    "fen": (0, 0),
    "分": (0, 0),
    "yuan": (2, 2),
    "元": (2, 2),
    "wan_yuan": (6, 6),
    "万元": (6, 6),
}
_EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])


def _unit(params: Mapping[str, Any], key: str) -> tuple[int, int]:
    unit = params.get(key)
    if unit not in UNITS:
        raise TransformParamError(
            f"unknown unit {unit!r}; use one of {', '.join(UNITS)}", (key,)
        )
    return UNITS[unit]


def _bound(params: Mapping[str, Any], key: str) -> Decimal | None:
    bound = params.get(key)
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, int | str):
        raise TransformParamError(f"{key} must be an integer or decimal text", (key,))
    try:
        return Decimal(bound)
    except decimal.InvalidOperation as exc:
        raise TransformParamError(f"{key} {bound!r} is not a number", (key,)) from exc


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RowRejected(
            f"scale expects an integer or Decimal amount, got {_describe(value)}; "
            "floats are refused because they are not exact"
        )
    amount = Decimal(value)
    if not amount.is_finite():
        raise RowRejected(f"scale got {amount}, which is not a finite amount")
    return amount


def _scaler(
    source: tuple[int, int],
    target: tuple[int, int],
    names: tuple[str, str],
    bounds: tuple[Decimal | None, Decimal | None],
) -> Convert:
    shift = source[0] - target[0]
    places = target[1]
    quantum = Decimal(1).scaleb(-places)
    low, high = bounds

    def convert(value: Any, row: Row) -> Any:
        if value is None:
            return None
        amount = _amount(value)
        scaled = amount.scaleb(shift, _EXACT)
        try:
            exact = scaled.quantize(quantum, context=_EXACT)
        except (decimal.Inexact, decimal.InvalidOperation) as exc:
            raise RowRejected(
                f"{amount} {names[0]} is {scaled} {names[1]}, which needs more than "
                f"{places} decimal places; it is not converted by rounding"
            ) from exc
        if (low is not None and exact < low) or (high is not None and exact > high):
            raise RowRejected(
                f"{amount} {names[0]} is {exact} {names[1]}, outside the allowed "
                f"range {low} to {high}"
            )
        return int(exact) if places == 0 else exact

    return convert


@transform("scale")
def _scale(params: Any, ctx: CompileContext) -> Step:
    if not isinstance(params, Mapping):
        raise TransformParamError(
            "scale needs 'from' and 'to' units, e.g. {from: 万元, to: fen}"
        )
    unknown = set(params) - {"from", "to", "min", "max"}
    if unknown:
        raise TransformParamError(f"unknown parameter {sorted(unknown)[0]!r} of scale")
    source, target = _unit(params, "from"), _unit(params, "to")
    names = (str(params["from"]), str(params["to"]))
    bounds = (_bound(params, "min"), _bound(params, "max"))
    forward = _scaler(source, target, names, bounds)
    inverse = _scaler(target, source, (names[1], names[0]), (None, None))
    produces = "int" if target[1] == 0 else "decimal"
    return Step("scale", forward, inverse, produces=produces, scale=target[1])


# --- value maps -------------------------------------------------------------------


_KINDS: Final[dict[type, str]] = {
    str: "str",
    int: "number",
    bool: "bool",
    Decimal: "number",
    type(None): "null",
}


def _kind(value: Any) -> str:
    """Map lookups are type-strict: '1', 1 and True are three different keys."""
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class _MapEntry:
    constant: Any = None
    computed: Callable[[Row], Any] | None = None


def _map_entries(
    values: Mapping[Any, Any], ctx: CompileContext
) -> tuple[dict[tuple[str, Any], _MapEntry], frozenset[str]]:
    entries: dict[tuple[str, Any], _MapEntry] = {}
    row_names: set[str] = set()
    for key, value in values.items():
        if isinstance(value, Mapping):
            if set(value) != {"expr"} or not isinstance(value["expr"], str):
                raise TransformParamError(
                    "a computed map value is written {expr: '...'}", ("values", key)
                )
            try:
                func, used = ctx.compile_expr(value["expr"])
            except ValueError as exc:
                raise TransformParamError(str(exc), ("values", key, "expr")) from exc
            entries[(_kind(key), key)] = _MapEntry(computed=func)
            row_names |= used
        else:
            entries[(_kind(key), key)] = _MapEntry(constant=value)
    return entries, frozenset(row_names)


def _map_inverse(
    entries: dict[tuple[str, Any], _MapEntry],
) -> dict[tuple[str, Any], _MapEntry] | None:
    inverse: dict[tuple[str, Any], _MapEntry] = {}
    for (_, key), entry in entries.items():
        if entry.computed is not None:
            return None
        back = (_kind(entry.constant), entry.constant)
        if back in inverse:
            return None
        inverse[back] = _MapEntry(constant=key)
    return inverse


_UNMAPPED = object()


def _lookup(entries: dict[tuple[str, Any], _MapEntry], default: Any) -> Convert:
    null_entry = entries.get(("null", None))

    def convert(value: Any, row: Row) -> Any:
        if value is None and null_entry is None:
            return None
        entry = entries.get((_kind(value), value))
        if entry is None:
            if default is _UNMAPPED:
                raise RowRejected(f"value {value!r} is not in the value map")
            return default
        if entry.computed is not None:
            return entry.computed(row)
        return entry.constant

    return convert


@transform("map")
def _map(params: Any, ctx: CompileContext) -> Step:
    if not isinstance(params, Mapping) or not isinstance(params.get("values"), Mapping):
        raise TransformParamError("map needs 'values': a mapping of source to target")
    unknown = set(params) - {"values", "default"}
    if unknown:
        raise TransformParamError(f"unknown parameter {sorted(unknown)[0]!r} of map")
    entries, row_names = _map_entries(params["values"], ctx)
    default = params.get("default", _UNMAPPED)
    inverse_entries = None if default is not _UNMAPPED else _map_inverse(entries)
    inverse = None if inverse_entries is None else _lookup(inverse_entries, _UNMAPPED)
    constants = [e.constant for e in entries.values() if e.computed is None]
    if default is not _UNMAPPED:
        constants.append(default)
    all_constant = all(e.computed is None for e in entries.values())
    return Step(
        "map",
        _lookup(entries, default),
        inverse,
        produces=None,
        outputs=tuple(constants) if all_constant else None,
        inputs=tuple(key for _, key in entries),
        catch_all=default is not _UNMAPPED,
        row_names=row_names,
    )
