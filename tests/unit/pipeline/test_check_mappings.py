"""``run``'s mapping check: a database it cannot reach is not a missing table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from bridge.errors import ConfigError
from bridge.map.schemas import ColumnShape, LiveSchemas
from bridge.pipeline.runner import _check_mappings, _configured_as, _FirstFound

REPO = Path(__file__).resolve().parents[3]
MAPPING = REPO / "mappings" / "gsxt_to_xyzg.yaml"


def test_closed_ports_are_reported_once_per_database_not_as_missing_tables() -> None:
    """Pins: "table ... does not exist in the live schema" with the databases down."""
    accounts = [
        (
            "mysql+pymysql://cb_capture:pw@127.0.0.1:1/gsxt?charset=utf8mb4",
            "the capture account of c.json",
        ),
        (
            "postgresql+psycopg://cb_writer:pw@127.0.0.1:1/creditbridge",
            "databases.credit_china.url",
        ),
    ]

    with pytest.raises(ConfigError) as raised:
        _check_mappings([MAPPING], accounts)

    assert str(raised.value).splitlines() == [
        "cannot connect to mysql+pymysql://cb_capture:***@127.0.0.1:1/gsxt?"
        "charset=utf8mb4 as cb_capture: (2003, \"Can't connect to MySQL server on "
        "'127.0.0.1' ([Errno 111] Connection refused)\"); check the URL and password "
        "of the capture account of c.json and that the server is running; nothing "
        "was started",
        "cannot connect to postgresql+psycopg://cb_writer:***@127.0.0.1:1/creditbridge "
        'as cb_writer: connection failed: connection to server at "127.0.0.1", port 1 '
        "failed: Connection refused Is the server running on that host and accepting "
        "TCP/IP connections?; check the URL and password of "
        "databases.credit_china.url and that the server is running; nothing was "
        "started",
    ]


class FakeSource:
    """One account's view: a table shape, nothing, or an inspection failure."""

    def __init__(self, answer: dict[str, ColumnShape] | ConfigError | None) -> None:
        self.answer = answer

    def table(self, qualified: str) -> dict[str, ColumnShape] | None:
        if isinstance(self.answer, ConfigError):
            raise self.answer
        return self.answer

    def close(self) -> None:
        pass


def _first_found(*sources: FakeSource) -> _FirstFound:
    return _FirstFound(cast(list[LiveSchemas], list(sources)))


SHAPE = {"ID": ColumnShape("ID", "INTEGER", "int")}


def test_a_table_another_account_sees_is_found_despite_one_failure() -> None:
    found = _first_found(FakeSource(ConfigError("denied")), FakeSource(SHAPE))

    assert found.table("gsxt.E_CR_REPAIR") == SHAPE


def test_a_failure_is_reported_instead_of_a_missing_table() -> None:
    """Pins: _FirstFound swallowing errors and answering "does not exist"."""
    found = _first_found(FakeSource(ConfigError("denied")), FakeSource(None))

    with pytest.raises(ConfigError) as raised:
        found.table("gsxt.E_CR_REPAIR")

    assert str(raised.value) == "denied"


def test_no_account_seeing_the_table_means_it_does_not_exist() -> None:
    found: Any = _first_found(FakeSource(None), FakeSource(None))

    assert found.table("gsxt.E_CR_REPAIR") is None


def test_the_hint_names_the_variable_behind_a_configured_url() -> None:
    written = "${env:CREDITBRIDGE_PG_WRITER_URL}"

    assert _configured_as("databases.credit_china.url", written) == (
        "databases.credit_china.url (${env:CREDITBRIDGE_PG_WRITER_URL})"
    )
    assert _configured_as("databases.x.url", "postgresql://h/d") == "databases.x.url"
