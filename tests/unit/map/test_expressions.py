"""Expressions: the native closure path agrees with simpleeval; unsafe ones refused."""

from __future__ import annotations

import ast
from datetime import date
from typing import Any

import pytest

from bridge.map.expressions import (
    EvaluationError,
    ExpressionError,
    _evaluator,
    _native,
    compile_expression,
)

ROW: dict[str, Any] = {
    "UNISCID": " 92520102ma8h7ltp12 ",
    "REPAIRTYPE": 5,
    "jdfk_bz": False,
    "sjly": "XYZG",
    "xdr_lb": "法人及非法人组织",
    "day": date(2023, 11, 30),
    "empty": None,
}

EXPRESSIONS = [
    "'个体工商户' if upper(trim(UNISCID))[:2] == '92' else '法人及非法人组织'",
    "5 if jdfk_bz else 6",
    "REPAIRTYPE == 5",
    "REPAIRTYPE in (5, 6) and not jdfk_bz",
    "1 <= REPAIRTYPE < 5",
    "sjly != 'GSXT' or empty is None",
    "coalesce(empty, sjly) + '-' + str(REPAIRTYPE - 1)",
    "add_months(day, 3)",
    "xdr_lb != '自然人'",
    "-REPAIRTYPE",
    "UNISCID[1]",
    "empty is not None",
    "len(trim(UNISCID))",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_native_path_agrees_with_simpleeval(text: str) -> None:
    body = ast.parse(text, mode="eval").body
    native = _native(text, body)
    assert native is not None, "expected the native path for this expression"
    assert native(ROW) == _evaluator(text, body)(ROW)


def test_results_of_the_demo_expressions() -> None:
    category, _ = compile_expression(EXPRESSIONS[0])
    assert category(ROW) == "个体工商户"
    assert compile_expression("add_months(day, 3)")[0](ROW) == date(2024, 2, 29)


def test_multiplication_stays_with_simpleeval_and_its_limits() -> None:
    body = ast.parse("sjly * 2", mode="eval").body
    assert _native("sjly * 2", body) is None
    repeat, _ = compile_expression("sjly * 100000000")
    with pytest.raises(EvaluationError) as caught:
        repeat(ROW)
    assert str(caught.value).startswith("'sjly * 100000000' failed: Sorry, I will not")


def test_names_read_are_reported() -> None:
    _, names = compile_expression("coalesce(empty, sjly) == upper(xdr_lb)")
    assert names == frozenset({"empty", "sjly", "xdr_lb"})


@pytest.mark.parametrize(
    "text", ["REPAIRTYPE == missing", "missing * 2"], ids=["native", "simpleeval"]
)
def test_missing_column_names_the_column(text: str) -> None:
    evaluate, _ = compile_expression(text)
    with pytest.raises(EvaluationError) as caught:
        evaluate(ROW)
    assert str(caught.value) == f"{text!r}: the row has no column 'missing'"


def test_type_error_says_which_expression_failed() -> None:
    evaluate, _ = compile_expression("sjly - 1")
    with pytest.raises(EvaluationError) as caught:
        evaluate(ROW)
    assert str(caught.value) == (
        "'sjly - 1' failed: unsupported operand type(s) for -: 'str' and 'int'"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "__import__('os')",
            "\"__import__('os')\" calls '__import__', which is not an allowed "
            "function; allowed: Decimal, add_months, coalesce, fold_decision_number, "
            "int, is_valid_uscc, len, lower, mask_id, str, trim, upper",
        ),
        (
            "sjly.__class__",
            "'sjly.__class__' uses attribute, which expressions do not allow",
        ),
        (
            "(lambda: 1)()",
            "'(lambda: 1)()' uses lambda, which expressions do not allow",
        ),
        ("x := 1", "'x := 1' is not a valid expression: invalid syntax"),
        ("a = 1", "'a = 1' is not a valid expression: invalid syntax"),
    ],
)
def test_unsafe_expressions_are_refused_at_load_time(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert str(caught.value) == message
