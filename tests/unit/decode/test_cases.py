"""CASES.md C01-C04, C07, C09-C11 as decode tables, under every supported setting.

Each case runs with schemas embedded (decimals ``precise`` and ``string``) and with
schemas disabled (decimals ``string``, column types from a catalog hint), and must
give the same Python values every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dbz_records import (
    Col,
    Table,
    decimal_col,
    logical_col,
    mysql_source,
    pg_source,
    record,
)

from bridge.decode import (
    ColumnKind,
    ColumnType,
    ColumnTypes,
    DecodeSettings,
    ReplicaIdentity,
    TableTypes,
    decode_record,
)
from bridge.events import UNAVAILABLE, ChangeEvent, Operation

MYSQL_CLASS = "io.debezium.connector.mysql.MySqlConnector"
PG_CLASS = "io.debezium.connector.postgresql.PostgresConnector"


@dataclass(frozen=True)
class Mode:
    schemas: bool
    decimal: str

    @property
    def id(self) -> str:
        return f"schemas-{'on' if self.schemas else 'off'}-{self.decimal}"


MODES = [Mode(True, "precise"), Mode(True, "string"), Mode(False, "string")]


def settings_for(connector: str, mode: Mode) -> DecodeSettings:
    flag = "true" if mode.schemas else "false"
    settings = DecodeSettings.from_connector_config(
        f"test-{connector}",
        {
            "connector.class": MYSQL_CLASS if connector == "mysql" else PG_CLASS,
            "topic.prefix": "t",
            "decimal.handling.mode": mode.decimal,
            "time.precision.mode": "adaptive_time_microseconds",
            "key.converter.schemas.enable": flag,
            "value.converter.schemas.enable": flag,
            "converter.replace.null.with.default": "false",
        },
    )
    settings.validate()
    return settings


def decode_rows(
    table: Table,
    types: ColumnTypes,
    mode: Mode,
    rows: list[dict[str, Any]],
    op: str = "c",
) -> list[ChangeEvent]:
    settings = settings_for(table.connector, mode)
    events = []
    for index, row in enumerate(rows):
        if table.connector == "mysql":
            source = mysql_source(table, pos=4000 + 100 * index)
        else:
            source = pg_source(table, lsn=23803720 + 64 * index, commit_lsn=23803600)
        key, value = record(table, op, None, row, source, schemas=mode.schemas)
        event = decode_record(key, value, settings, types)
        assert event is not None
        events.append(event)
    return events


def string_col(name: str, optional: bool = True, **extra: Any) -> Col:
    return Col(name, "string", optional, **extra)


# --- C01 decimals -----------------------------------------------------------------

LEDGER_HINT = ColumnTypes.from_kinds(
    {
        "gsxt.ledger": {
            "id": ColumnKind.INTEGER,
            "amount": ColumnType(ColumnKind.DECIMAL, precision=10, scale=2),
            "delta": ColumnType(ColumnKind.DECIMAL, precision=10, scale=2),
        }
    }
)


def ledger_table(mode: Mode) -> Table:
    if mode.decimal == "precise":
        amount, delta = decimal_col("amount", 10, 2, False), decimal_col("delta", 10, 2)
    else:
        amount, delta = string_col("amount", False), string_col("delta")
    return Table(
        "mysql", "t", "gsxt", "ledger", [Col("id", "int32", False), amount, delta]
    )


LEDGER_WIRE = {
    "precise": [("AxY=", "/2o="), ("AIA=", "/w=="), ("AA==", None)],
    "string": [("7.90", "-1.50"), ("1.28", "-0.01"), ("0.00", None)],
}
LEDGER_EXPECTED = [
    (Decimal("7.90"), Decimal("-1.50")),
    (Decimal("1.28"), Decimal("-0.01")),
    (Decimal("0.00"), None),
]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c01_mysql_decimals_keep_sign_and_scale(mode: Mode) -> None:
    wire = LEDGER_WIRE[mode.decimal]
    rows = [{"id": i + 1, "amount": a, "delta": d} for i, (a, d) in enumerate(wire)]

    events = decode_rows(ledger_table(mode), LEDGER_HINT, mode, rows)

    got = [(e.after["amount"], e.after["delta"]) for e in events]  # type: ignore[index]
    assert got == LEDGER_EXPECTED
    # Same digits, same exponent: 7.90 must not come back as 7.9 or 790.
    assert [str(a) for a, _ in got] == ["7.90", "1.28", "0.00"]
    assert str(got[0][1]) == "-1.50"


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c01_postgres_numeric_4_4(mode: Mode) -> None:
    column = decimal_col("r", 4, 4) if mode.decimal == "precise" else string_col("r")
    table = Table(
        "postgresql", "t", "xyzg", "ratio", [Col("id", "int32", False), column]
    )
    hint = ColumnTypes.from_kinds(
        {
            "xyzg.ratio": {
                "id": ColumnKind.INTEGER,
                "r": ColumnType(ColumnKind.DECIMAL, precision=4, scale=4),
            }
        }
    )
    wire = "CSo=" if mode.decimal == "precise" else "0.2346"

    (event,) = decode_rows(table, hint, mode, [{"id": 1, "r": wire}])

    assert event.after is not None
    assert str(event.after["r"]) == "0.2346"


# --- C02 temporal units -----------------------------------------------------------

EVT_HINT = ColumnTypes.from_kinds(
    {
        "gsxt.evt": {
            "id": ColumnKind.INTEGER,
            "d": ColumnKind.DATE,
            "t3": ColumnType(ColumnKind.TIMESTAMP, precision=3),
            "t6": ColumnType(ColumnKind.TIMESTAMP, precision=6),
        }
    }
)
EVT_TABLE = Table(
    "mysql",
    "t",
    "gsxt",
    "evt",
    [
        Col("id", "int32", False),
        logical_col("d", "int32", "io.debezium.time.Date"),
        logical_col("t3", "int64", "io.debezium.time.Timestamp"),
        logical_col("t6", "int64", "io.debezium.time.MicroTimestamp"),
    ],
)
C02_ROWS = [
    (
        {"d": 17971, "t3": 1527615379700, "t6": 1718454896123456},
        (
            date(2019, 3, 16),
            datetime(2018, 5, 29, 17, 36, 19, 700000),
            datetime(2024, 6, 15, 12, 34, 56, 123456),
        ),
    ),
    ({"d": -171596, "t3": None, "t6": None}, (date(1500, 3, 10), None, None)),
    ({"d": -1, "t3": None, "t6": None}, (date(1969, 12, 31), None, None)),
]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c02_units_come_from_the_type_not_the_number(mode: Mode) -> None:
    rows = [{"id": i, **wire} for i, (wire, _) in enumerate(C02_ROWS)]

    events = decode_rows(EVT_TABLE, EVT_HINT, mode, rows)

    got = [tuple(e.after[c] for c in ("d", "t3", "t6")) for e in events]  # type: ignore[index]
    assert got == [expected for _, expected in C02_ROWS]
    assert got[0][1].tzinfo is None and got[0][2].tzinfo is None


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c02_postgres_leap_day(mode: Mode) -> None:
    table = Table(
        "postgresql",
        "t",
        "xyzg",
        "day",
        [Col("id", "int32", False), logical_col("d", "int32", "io.debezium.time.Date")],
    )
    hint = ColumnTypes.from_kinds(
        {"xyzg.day": {"id": ColumnKind.INTEGER, "d": ColumnKind.DATE}}
    )

    (event,) = decode_rows(table, hint, mode, [{"id": 1, "d": 19782}])

    assert event.after == {"id": 1, "d": date(2024, 2, 29)}


# --- C03 DATETIME versus TIMESTAMP, C04 timestamptz -------------------------------

LOGIN_TABLE = Table(
    "mysql",
    "t",
    "gsxt",
    "login",
    [
        Col("id", "int32", False),
        logical_col("created", "int64", "io.debezium.time.Timestamp"),
        logical_col("seen", "string", "io.debezium.time.ZonedTimestamp"),
    ],
)
LOGIN_HINT = ColumnTypes.from_kinds(
    {
        "gsxt.login": {
            "id": ColumnKind.INTEGER,
            "created": ColumnType(ColumnKind.TIMESTAMP, precision=0),
            "seen": ColumnType(ColumnKind.TIMESTAMP_TZ, precision=0),
        }
    }
)
PAYMENT_TABLE = Table(
    "postgresql",
    "t",
    "xyzg",
    "payment",
    [
        Col("id", "int32", False),
        logical_col(
            "paid_at", "string", "io.debezium.time.ZonedTimestamp", optional=False
        ),
    ],
)
PAYMENT_HINT = ColumnTypes.from_kinds(
    {
        "xyzg.payment": {
            "id": ColumnKind.INTEGER,
            "paid_at": ColumnType(ColumnKind.TIMESTAMP_TZ, precision=6),
        }
    }
)


def c03_c04(mode: Mode) -> tuple[dict[str, Any], dict[str, Any]]:
    (login,) = decode_rows(
        LOGIN_TABLE,
        LOGIN_HINT,
        mode,
        [{"id": 1, "created": 1552735707000, "seen": "2019-03-16T03:28:27Z"}],
    )
    (payment,) = decode_rows(
        PAYMENT_TABLE,
        PAYMENT_HINT,
        mode,
        [{"id": 1, "paid_at": "2024-02-23T08:52:14.431487Z"}],
    )
    assert login.after is not None and payment.after is not None
    return dict(login.after), dict(payment.after)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c03_datetime_is_wall_clock_timestamp_is_instant(mode: Mode) -> None:
    login, _ = c03_c04(mode)

    assert login["created"] == datetime(2019, 3, 16, 11, 28, 27)
    assert login["created"].tzinfo is None
    assert login["seen"] == datetime(2019, 3, 16, 3, 28, 27, tzinfo=UTC)
    assert login["seen"].tzinfo is UTC


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c04_timestamptz_keeps_microseconds(mode: Mode) -> None:
    _, payment = c03_c04(mode)
    paid_at = payment["paid_at"]

    assert paid_at == datetime(2024, 2, 23, 8, 52, 14, 431487, tzinfo=UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert (paid_at - epoch) // timedelta(microseconds=1) == 1708678334431487


def c02_rows() -> list[dict[str, Any]]:
    rows = [{"id": i, **wire} for i, (wire, _) in enumerate(C02_ROWS)]
    return [
        dict(e.after or {})
        for mode in MODES
        for e in decode_rows(EVT_TABLE, EVT_HINT, mode, rows)
    ]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def test_c03_c04_do_not_depend_on_the_process_time_zone(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins: wall-clock timestamps shifted by the bridge host's zone (19:28:27)."""
    import time

    expected = c03_c04(MODES[0]), c03_c04(MODES[2]), c02_rows()
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert (c03_c04(MODES[0]), c03_c04(MODES[2]), c02_rows()) == expected
        login, payment = c03_c04(MODES[2])
        assert login["created"] == datetime(2019, 3, 16, 11, 28, 27)
        assert payment["paid_at"].hour == 8
    finally:
        monkeypatch.undo()
        time.tzset()


# --- C07 TINYINT(1) ---------------------------------------------------------------

FLAG_TABLE = Table(
    "mysql",
    "t",
    "gsxt",
    "flag",
    [Col("id", "int32", False), Col("active", "int16"), Col("level", "int16")],
)
FLAG_HINT = ColumnTypes.from_kinds(
    {
        "gsxt.flag": {
            "id": ColumnKind.INTEGER,
            "active": ColumnKind.INTEGER,
            "level": ColumnKind.INTEGER,
        }
    }
)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c07_tinyint1_stays_a_number(mode: Mode) -> None:
    rows = [{"id": i, "active": v, "level": v} for i, v in enumerate([0, 1, 2, -1], 1)]

    events = decode_rows(FLAG_TABLE, FLAG_HINT, mode, rows)

    got = [(e.after["active"], e.after["level"]) for e in events]  # type: ignore[index]
    assert got == [(0, 0), (1, 1), (2, 2), (-1, -1)]
    assert all(type(a) is int for a, _ in got)


# --- C09 incomplete before-images ------------------------------------------------

CUSTOMER_TABLE = Table(
    "postgresql",
    "t",
    "xyzg",
    "customer",
    [Col("id", "int32", False), string_col("email"), string_col("region")],
)


def customer_hint(identity: ReplicaIdentity | None) -> ColumnTypes:
    text = ColumnType(ColumnKind.TEXT)
    columns = {"id": ColumnType(ColumnKind.INTEGER), "email": text, "region": text}
    return ColumnTypes({"xyzg.customer": TableTypes(columns, identity, ("id",))})


def customer_events(mode: Mode, hint: ColumnTypes) -> tuple[ChangeEvent, ChangeEvent]:
    settings = settings_for("postgresql", mode)
    after = {"id": 7, "email": "kim@example.test", "region": "US"}
    before = {"id": 7, "email": None, "region": None}
    update = record(
        CUSTOMER_TABLE,
        "u",
        None,
        after,
        pg_source(CUSTOMER_TABLE, 500, 400),
        schemas=mode.schemas,
    )
    delete = record(
        CUSTOMER_TABLE,
        "d",
        before,
        None,
        pg_source(CUSTOMER_TABLE, 700, 600),
        schemas=mode.schemas,
    )
    events = (
        decode_record(*update, settings, hint),
        decode_record(*delete, settings, hint),
    )
    assert events[0] is not None and events[1] is not None
    return events[0], events[1]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c09_update_without_before_image(mode: Mode) -> None:
    update, _ = customer_events(mode, customer_hint(ReplicaIdentity.DEFAULT))

    assert update.op is Operation.UPDATE
    assert update.before is None
    assert update.after == {"id": 7, "email": "kim@example.test", "region": "US"}
    assert update.key == {"id": 7}


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c09_delete_with_key_only_before_image(mode: Mode) -> None:
    """Pins: nulls Debezium put in place of unsent columns read as real NULLs."""
    _, delete = customer_events(mode, customer_hint(ReplicaIdentity.DEFAULT))

    assert delete.op is Operation.DELETE
    assert delete.key == {"id": 7}
    assert delete.before == {"id": 7, "email": UNAVAILABLE, "region": UNAVAILABLE}
    assert delete.row == delete.before


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c09_full_identity_keeps_nulls(mode: Mode) -> None:
    _, delete = customer_events(mode, customer_hint(ReplicaIdentity.FULL))

    assert delete.before == {"id": 7, "email": None, "region": None}


# --- C10 explicit NULL versus default ---------------------------------------------

CLAIM_TABLE = Table(
    "mysql",
    "t",
    "gsxt",
    "claim",
    [
        Col("id", "int32", False),
        string_col("method", default="MANUAL"),
        Col("score", "int32", True, default=5),
    ],
)
CLAIM_HINT = ColumnTypes.from_kinds(
    {
        "gsxt.claim": {
            "id": ColumnKind.INTEGER,
            "method": ColumnKind.TEXT,
            "score": ColumnKind.INTEGER,
        }
    }
)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c10_null_in_the_event_is_never_the_schema_default(mode: Mode) -> None:
    """Pins: a sink that fills schema defaults into explicit NULLs."""
    rows = [
        {"id": 60001, "method": None, "score": None},
        {"id": 60002, "method": "MANUAL", "score": 5},
    ]

    events = decode_rows(CLAIM_TABLE, CLAIM_HINT, mode, rows)

    assert [e.after for e in events] == rows


# --- C11 zero dates ---------------------------------------------------------------

LEGACY_TABLE = Table(
    "mysql",
    "t",
    "gsxt",
    "legacy",
    [
        Col("id", "int32", False),
        logical_col("d_null", "int32", "io.debezium.time.Date"),
        logical_col("d_nn", "int32", "io.debezium.time.Date", optional=False),
        logical_col("dt_null", "int64", "io.debezium.time.Timestamp"),
    ],
)
LEGACY_HINT = ColumnTypes.from_kinds(
    {
        "gsxt.legacy": {
            "id": ColumnKind.INTEGER,
            "d_null": ColumnKind.DATE,
            "d_nn": ColumnKind.DATE,
            "dt_null": ColumnType(ColumnKind.TIMESTAMP, precision=0),
        }
    }
)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.id)
def test_c11_zero_dates(mode: Mode) -> None:
    # Debezium sends null for a zero date in a nullable column and epoch 0 in a NOT
    # NULL one: the NOT NULL case is lossy at the source, 0000-00-00 becomes 1970-01-01.
    rows = [
        {"id": 1, "d_null": None, "d_nn": 0, "dt_null": None},
        {"id": 2, "d_null": 0, "d_nn": 0, "dt_null": 0},
    ]

    events = decode_rows(LEGACY_TABLE, LEGACY_HINT, mode, rows)

    epoch = date(1970, 1, 1)
    assert [e.after for e in events] == [
        {"id": 1, "d_null": None, "d_nn": epoch, "dt_null": None},
        {"id": 2, "d_null": epoch, "d_nn": epoch, "dt_null": datetime(1970, 1, 1)},
    ]
