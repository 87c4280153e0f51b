"""Safe expressions for ``expr`` columns, computed map values and row filters.

Expressions are parsed once at load time and evaluated with ``simpleeval`` against
the row image: column names are variables, and only the functions listed in
:data:`FUNCTIONS` can be called. There is no Python ``eval``; attribute access to
private names, imports and assignments are refused by ``simpleeval``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

import simpleeval

from bridge.map import codes, timeconv

Row = Mapping[str, Any]


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _trim(text: str | None) -> str | None:
    return None if text is None else text.strip()


FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "len": len,
    "str": str,
    "int": int,
    "Decimal": Decimal,
    "coalesce": _coalesce,
    "upper": lambda text: None if text is None else text.upper(),
    "lower": lambda text: None if text is None else text.lower(),
    "trim": _trim,
    "fold_decision_number": codes.fold_decision_number,
    "is_valid_uscc": codes.is_valid_uscc,
    "mask_id": codes.mask_id_number,
    "add_months": timeconv.add_months,
}
_CONSTANTS: Final = frozenset({"True", "False", "None"})


_EVAL_FAILURES: Final = (
    simpleeval.InvalidExpression,
    AttributeError,
    TypeError,
    ValueError,
    ArithmeticError,
    IndexError,
    KeyError,
)


class ExpressionError(ValueError):
    """An expression cannot be compiled; the message says why."""


class EvaluationError(Exception):
    """An expression failed on one row (missing column, wrong type)."""


def referenced_names(tree: ast.AST) -> frozenset[str]:
    """Column names an expression reads (function names and constants excluded)."""
    found = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return frozenset(found - FUNCTIONS.keys() - _CONSTANTS)


def _validate(tree: ast.AST, text: str) -> None:
    nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Attribute | ast.Lambda | ast.NamedExpr):
            raise ExpressionError(
                f"{text!r} uses {type(node).__name__.lower()}, which expressions "
                "do not allow"
            )
    for node in nodes:
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS
        ):
            name = (
                node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node)
            )
            raise ExpressionError(
                f"{text!r} calls {name!r}, which is not an allowed function; "
                f"allowed: {', '.join(sorted(FUNCTIONS))}"
            )


def compile_expression(text: str) -> tuple[Callable[[Row], Any], frozenset[str]]:
    """Parse *text* once; return an evaluator over a row and the names it reads."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} is not a valid expression: {exc.msg}") from exc
    _validate(tree, text)
    names = referenced_names(tree)
    native = _native(text, tree.body)
    if native is not None:
        return native, names
    return _evaluator(text, tree.body), names


def _evaluator(text: str, body: ast.expr) -> Callable[[Row], Any]:
    evaluator = simpleeval.EvalWithCompoundTypes(functions=dict(FUNCTIONS))
    evaluator.expr = text

    def evaluate(row: Row) -> Any:
        evaluator.names = row if isinstance(row, dict) else dict(row)
        try:
            return evaluator._eval(body)
        except simpleeval.NameNotDefined as exc:
            missing = exc.name
            raise EvaluationError(
                f"{text!r}: the row has no column {missing!r}"
            ) from exc
        except _EVAL_FAILURES as exc:
            raise EvaluationError(f"{text!r} failed: {exc}") from exc

    return evaluate


# --- the native path ---------------------------------------------------------------
#
# Filters and expression columns run on every row, and simpleeval walks the AST on
# each call. Expressions made only of the nodes below (names, constants,
# comparisons, and/or/not, if-else, slicing, + and -, calls to FUNCTIONS) are compiled
# once into nested closures with the same Python semantics. Anything else (``*``
# and ``**``, which simpleeval bounds, comprehensions ...) stays with simpleeval.

Node = Callable[[Row], Any]


class _NotNative(Exception):  # noqa: N818 - control flow inside the compiler
    pass


_COMPARE: Final[dict[type, Callable[[Any, Any], Any]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_BINARY: Final[dict[type, Callable[[Any, Any], Any]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
}


def _native(text: str, body: ast.expr) -> Callable[[Row], Any] | None:
    try:
        node = _node(body)
    except _NotNative:
        return None

    def evaluate(row: Row) -> Any:
        try:
            return node(row)
        except EvaluationError as exc:
            raise EvaluationError(f"{text!r}: {exc}") from None
        except _EVAL_FAILURES as exc:
            raise EvaluationError(f"{text!r} failed: {exc}") from exc

    return evaluate


def _node(node: ast.expr) -> Node:
    builder = _BUILDERS.get(type(node))
    if builder is None:
        raise _NotNative
    return builder(node)


def _constant(node: Any) -> Node:
    value = node.value
    return lambda row: value


def _name(node: Any) -> Node:
    column = node.id

    def read(row: Row) -> Any:
        try:
            return row[column]
        except KeyError:
            raise EvaluationError(f"the row has no column {column!r}") from None

    return read


def _compare(node: Any) -> Node:
    operators = tuple(_COMPARE[type(op)] for op in node.ops)
    left, rights = _node(node.left), tuple(_node(c) for c in node.comparators)

    def compare(row: Row) -> Any:
        value = left(row)
        for test, right in zip(operators, rights, strict=True):
            other = right(row)
            if not test(value, other):
                return False
            value = other
        return True

    return compare


def _bool_op(node: Any) -> Node:
    parts = tuple(_node(v) for v in node.values)
    if isinstance(node.op, ast.And):

        def all_of(row: Row) -> Any:
            value = True
            for part in parts:
                value = part(row)
                if not value:
                    return value
            return value

        return all_of

    def any_of(row: Row) -> Any:
        value = False
        for part in parts:
            value = part(row)
            if value:
                return value
        return value

    return any_of


def _unary(node: Any) -> Node:
    operand = _node(node.operand)
    if isinstance(node.op, ast.Not):
        return lambda row: not operand(row)
    if isinstance(node.op, ast.USub):
        return lambda row: -operand(row)
    raise _NotNative


def _if_else(node: Any) -> Node:
    test, body, orelse = _node(node.test), _node(node.body), _node(node.orelse)
    return lambda row: body(row) if test(row) else orelse(row)


def _binary(node: Any) -> Node:
    apply = _BINARY.get(type(node.op))
    if apply is None:
        raise _NotNative
    left, right = _node(node.left), _node(node.right)
    return lambda row: apply(left(row), right(row))


def _call(node: Any) -> Node:
    if node.keywords or not isinstance(node.func, ast.Name):
        raise _NotNative
    function = FUNCTIONS[node.func.id]
    args = tuple(_node(a) for a in node.args)
    return lambda row: function(*(a(row) for a in args))


def _subscript(node: Any) -> Node:
    value = _node(node.value)
    index = node.slice
    if isinstance(index, ast.Slice):
        if index.step is not None:
            raise _NotNative
        lower = _node(index.lower) if index.lower is not None else _none
        upper = _node(index.upper) if index.upper is not None else _none
        return lambda row: value(row)[lower(row) : upper(row)]
    key = _node(index)
    return lambda row: value(row)[key(row)]


def _sequence(node: Any) -> Node:
    items = tuple(_node(item) for item in node.elts)
    return lambda row: tuple(item(row) for item in items)


def _none(row: Row) -> None:
    return None


_BUILDERS: Final[dict[type, Callable[[Any], Node]]] = {
    ast.Constant: _constant,
    ast.Name: _name,
    ast.Compare: _compare,
    ast.BoolOp: _bool_op,
    ast.UnaryOp: _unary,
    ast.IfExp: _if_else,
    ast.BinOp: _binary,
    ast.Call: _call,
    ast.Subscript: _subscript,
    ast.Tuple: _sequence,
}
