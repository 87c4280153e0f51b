"""Safe expressions for ``expr`` columns, computed map values and row filters.

Expressions are parsed once at load time and evaluated with ``simpleeval`` against
the row image: column names are variables, and only the functions listed in
:data:`FUNCTIONS` can be called. There is no Python ``eval``; attribute access to
private names, imports and assignments are refused by ``simpleeval``.
"""

from __future__ import annotations

import ast
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
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else "?"
                raise ExpressionError(
                    f"{text!r} calls {name!r}, which is not an allowed function; "
                    f"allowed: {', '.join(sorted(FUNCTIONS))}"
                )
        elif isinstance(node, ast.Attribute | ast.Lambda | ast.NamedExpr):
            raise ExpressionError(
                f"{text!r} uses {type(node).__name__.lower()}, which expressions "
                "do not allow"
            )


def compile_expression(text: str) -> tuple[Callable[[Row], Any], frozenset[str]]:
    """Parse *text* once; return an evaluator over a row and the names it reads."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} is not a valid expression: {exc.msg}") from exc
    _validate(tree, text)
    names = referenced_names(tree)
    fast = _fast_path(tree.body, text)
    if fast is not None:
        return fast, names
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


def _fast_path(body: ast.expr, text: str) -> Callable[[Row], Any] | None:
    """``column == 'x'`` and ``column != 'x'``: the common filter, without simpleeval.

    Filters run on every row; this keeps the loop guard off the interpreter's path.
    """
    if not (
        isinstance(body, ast.Compare)
        and isinstance(body.left, ast.Name)
        and body.left.id not in _CONSTANTS
        and len(body.ops) == 1
        and isinstance(body.ops[0], ast.Eq | ast.NotEq)
        and isinstance(body.comparators[0], ast.Constant)
    ):
        return None
    column, literal = body.left.id, body.comparators[0].value
    equal = isinstance(body.ops[0], ast.Eq)

    def compare(row: Row) -> bool:
        try:
            value = row[column]
        except KeyError as exc:
            raise EvaluationError(
                f"{text!r}: the row has no column {column!r}"
            ) from exc
        return (value == literal) is equal

    return compare
