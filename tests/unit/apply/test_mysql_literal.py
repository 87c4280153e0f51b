"""MySQL literals and batch statements (bridge.apply.dialects.mysql_literal)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymysql.connections import Connection
from pymysql.constants import SERVER_STATUS

from bridge.apply.dialects import dialect_for
from bridge.apply.dialects.mysql_literal import (
    BatchTemplate,
    byte_length,
    literal_renderer,
)

MYSQL = dialect_for("mysql")


def unconnected(server_status: int = 0) -> Connection:
    # PyMySQL's escaping needs no server: only the status flags the server last sent.
    connection = Connection(defer_connect=True)
    connection.server_status = server_status
    return connection


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("上海禾青餐饮管理有限公司", "'上海禾青餐饮管理有限公司'"),
        ("O'Brien \\ 路", "'O\\'Brien \\\\ 路'"),
        ('say "hi"\n\r\x00\x1a', "'say \\\"hi\\\"\\n\\r\\0\\Z'"),
        ("100% %(x)s %s", "'100% %(x)s %s'"),
        (None, "NULL"),
        (True, "1"),
        (0, "0"),
        (-12345678901234567890, "-12345678901234567890"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "-0.00"),
        (Decimal("1234567.8"), "1234567.8"),
        (datetime(2024, 6, 15, 4, 0), "'2024-06-15 04:00:00'"),
        (datetime(999, 1, 2, 3, 4, 5, 60), "'0999-01-02 03:04:05.000060'"),
        (date(24, 6, 15), "'0024-06-15'"),
        (time(23, 59, 59, 999999), "'23:59:59.999999'"),
        (1.5, "1.5e0"),
        (b"\x00'", "X'0027'"),
        (timedelta(hours=-1, microseconds=5), "'-00:59:59.999995'"),
    ],
)
def test_literals_are_pymysqls(value: Any, expected: str) -> None:
    connection = unconnected()
    render = literal_renderer(connection.escape, MYSQL.bind_value)

    assert render(value) == expected
    assert connection.escape(value) == expected


def test_aware_values_are_bound_first() -> None:
    # Pins: an aware datetime must be written as its UTC wall clock, as bind_value
    # does for executemany, never with its offset dropped.
    render = literal_renderer(unconnected().escape, MYSQL.bind_value)
    shanghai = timezone(timedelta(hours=8))

    assert render(datetime(2024, 6, 15, 12, 0, 0, 5, shanghai)) == (
        "'2024-06-15 04:00:00.000005'"
    )
    assert render(datetime(2024, 6, 15, 4, 0, tzinfo=UTC)) == "'2024-06-15 04:00:00'"
    assert render(UUID(int=1)) == "'00000000-0000-0000-0000-000000000001'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("O'Brien", "'O''Brien'"),
        ("C:\\dir\\new", "'C:\\dir\\new'"),
        ('a"b\n\x00\x1a', "'a\"b\n\x00\x1a'"),
        ("路径", "'路径'"),
    ],
)
def test_no_backslash_escapes_mode_only_doubles_quotes(
    value: str, expected: str
) -> None:
    # Pins: under NO_BACKSLASH_ESCAPES a backslash is a plain character; escaping
    # it would store two of them.
    status = SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
    connection = unconnected(status)
    render = literal_renderer(connection.escape, MYSQL.bind_value)

    assert render(value) == expected
    assert connection.escape(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_values_mysql_cannot_store_are_refused_as_pymysql_refuses_them(
    value: Any,
) -> None:
    render = literal_renderer(unconnected().escape, MYSQL.bind_value)

    with pytest.raises(Exception, match="can not be used with MySQL") as raised:
        render(value)

    assert type(raised.value).__name__ == "ProgrammingError"


def template(*columns: str, processors: tuple[Any, ...] = ()) -> BatchTemplate:
    return BatchTemplate(
        "INSERT INTO t (a, b) VALUES ",
        " AS new ON DUPLICATE KEY UPDATE b = new.b",
        columns,
        processors or (None,) * len(columns),
    )


def test_rows_are_rendered_in_statement_column_order() -> None:
    batch = template("b", "a")
    render = literal_renderer(unconnected().escape, MYSQL.bind_value)
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": None}]

    assert list(batch.row_texts(rows, render, MYSQL.bind_value)) == [
        "('x',1)",
        "(NULL,2)",
    ]


def test_single_column_rows() -> None:
    render = literal_renderer(unconnected().escape, MYSQL.bind_value)

    texts = template("a").row_texts([{"a": 7}], render, MYSQL.bind_value)

    assert list(texts) == ["(7)"]


def test_processors_run_after_bind_value() -> None:
    seen: list[Any] = []

    def process(value: Any) -> Any:
        seen.append(value)
        return None if value is None else f"<{value}>"

    batch = template("a", "b", processors=(None, process))
    render = literal_renderer(unconnected().escape, MYSQL.bind_value)
    moment = datetime(2024, 6, 15, 12, 0, tzinfo=timezone(timedelta(hours=8)))

    texts = list(batch.row_texts([{"a": 1, "b": moment}], render, MYSQL.bind_value))

    assert seen == [datetime(2024, 6, 15, 4, 0)]
    assert texts == ["(1,'<2024-06-15 04:00:00>')"]


def test_statements_split_at_the_byte_bound() -> None:
    batch = template("a", "b")
    fixed = len(batch.prefix) + len(batch.suffix)
    rows = ["('路路',1)", "('ab',2)", "('cd',3)"]  # 13, 8 and 8 bytes

    # Room for the first two rows (13 + 8 plus two commas counted) but not a third.
    statements = list(batch.statements(rows, fixed + 23, "utf8"))

    assert statements == [
        batch.prefix + "('路路',1),('ab',2)" + batch.suffix,
        batch.prefix + "('cd',3)" + batch.suffix,
    ]


def test_a_row_larger_than_the_bound_is_sent_alone() -> None:
    batch = template("a", "b")

    statements = list(batch.statements(["('x',1)", "('yyyy',2)"], 10, "utf8"))

    assert statements == [
        batch.prefix + "('x',1)" + batch.suffix,
        batch.prefix + "('yyyy',2)" + batch.suffix,
    ]


def test_byte_length_counts_utf8_bytes() -> None:
    assert byte_length("ab", "utf8") == 2
    assert byte_length("路\U00020000😀", "utf8") == 11


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.binary(max_size=64),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES, no_backslash_escapes=st.booleans())
def test_any_value_renders_as_pymysql_escapes_it(
    value: Any, no_backslash_escapes: bool
) -> None:
    flag = SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
    status = flag if no_backslash_escapes else 0
    connection = unconnected(status)
    render = literal_renderer(connection.escape, MYSQL.bind_value)

    assert render(value) == connection.escape(MYSQL.bind_value(value))
