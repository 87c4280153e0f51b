"""Redaction of secrets and ID numbers, and the structured fields of log records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.events import SourcePosition
from bridge.observe.logging import (
    Redactor,
    TextFormatter,
    configure_logging,
    mask_id_number,
    secrets_from_environment,
)

WRITER_PASSWORD = "Wr1ter-7f3c9a2e"
CAPTURE_PASSWORD = "Capt-51d0b8e4aa"
ID_NUMBER = "520102199003073128"
ID_NUMBER_X = "11010519491231002X"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = configure_logging(
        logging.DEBUG, secrets=[WRITER_PASSWORD, CAPTURE_PASSWORD], stream=buffer
    )
    # Without the timestamp, so lines can be compared exactly.
    handler.setFormatter(TextFormatter("%(levelname)s %(name)s: %(message)s"))
    yield buffer
    logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"natural person {ID_NUMBER}", "natural person 520102********3128"),
        (f"id={ID_NUMBER_X}.", "id=110105********002X."),
        (f"'{ID_NUMBER}','{ID_NUMBER}'", "'520102********3128','520102********3128'"),
        # A USCC is 18 characters too but has no birth date: it stays readable.
        ("uscc 914403001922038216", "uscc 914403001922038216"),
        # Longer digit runs are not ID numbers.
        (f"n={ID_NUMBER}1", f"n={ID_NUMBER}1"),
        ("masked already 520102********3128", "masked already 520102********3128"),
    ],
)
def test_mask_id_number(text: str, expected: str) -> None:
    assert mask_id_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgresql+psycopg://cb_writer:s3cr%40t@127.0.0.1:5432/credit",
            "postgresql+psycopg://cb_writer:***@127.0.0.1:5432/credit",
        ),
        ("password=hunter22 user=x", "password=*** user=x"),
        (
            '{"database.password": "a b c", "x": 1}',
            '{"database.password": "***", "x": 1}',
        ),
        ("PGPASSWORD='q w' psql", "PGPASSWORD='***' psql"),
        (f"login with {WRITER_PASSWORD} failed", "login with *** failed"),
        ("no secret here", "no secret here"),
    ],
)
def test_redactor(text: str, expected: str) -> None:
    assert Redactor([WRITER_PASSWORD])(text) == expected


def test_records_with_demo_secrets_and_id_numbers_come_out_masked(
    stream: io.StringIO,
) -> None:
    log = logging.getLogger("bridge.apply.writer")

    log.warning(
        "row %s rejected: holder %s", "XF001", ID_NUMBER,
        extra={"pipeline": "pg_to_mysql", "table": "xyxf_jg",
               "key": {"xf_bh": "XF001", "xdr_zjhm": ID_NUMBER},
               "position": SourcePosition("credit_china", (1, 2, 0),
                                          fields={"lsn": "0/16B3748"})},
    )
    log.info("connecting to mysql+pymysql://cb_writer:%s@127.0.0.1/gsxt",
             WRITER_PASSWORD)
    log.debug("capture config: database.password=%s", CAPTURE_PASSWORD)

    assert stream.getvalue().splitlines() == [
        "WARNING bridge.apply.writer: row XF001 rejected: holder 520102********3128"
        " [pipeline=pg_to_mysql table=xyxf_jg"
        " key=xf_bh=XF001,xdr_zjhm=520102********3128"
        " position=credit_china lsn=0/16B3748]",
        "INFO bridge.apply.writer: connecting to"
        " mysql+pymysql://cb_writer:***@127.0.0.1/gsxt",
        "DEBUG bridge.apply.writer: capture config: database.password=***",
    ]


def test_traceback_text_is_masked(stream: io.StringIO) -> None:
    log = logging.getLogger("bridge.apply.writer")

    try:
        raise RuntimeError(f"duplicate key {ID_NUMBER} for password={WRITER_PASSWORD}")
    except RuntimeError:
        log.exception("apply failed")

    output = stream.getvalue()
    assert "RuntimeError: duplicate key 520102********3128 for password=***" in output
    assert ID_NUMBER not in output
    assert WRITER_PASSWORD not in output


def test_json_lines_carry_the_fields_masked() -> None:
    buffer = io.StringIO()
    handler = configure_logging("INFO", json=True, secrets=[WRITER_PASSWORD],
                                stream=buffer)
    try:
        logging.getLogger("bridge.map").info(
            "filtered natural person %s", ID_NUMBER,
            extra={"pipeline": "mysql_to_pg", "table": "E_CR_REPAIR",
                   "key": {"REPNO": "R1"}},
        )
    finally:
        logging.getLogger().removeHandler(handler)

    entry = json.loads(buffer.getvalue())
    del entry["time"]
    assert entry == {
        "level": "INFO",
        "logger": "bridge.map",
        "message": "filtered natural person 520102********3128",
        "pipeline": "mysql_to_pg",
        "table": "E_CR_REPAIR",
        "key": {"REPNO": "R1"},
    }


def test_configure_twice_keeps_one_handler() -> None:
    first = configure_logging("INFO", secrets=[], stream=io.StringIO())
    second = configure_logging("INFO", secrets=[], stream=io.StringIO())
    try:
        root = logging.getLogger().handlers
        assert first not in root
        assert second in root
    finally:
        logging.getLogger().removeHandler(second)


def test_secrets_from_environment_and_file(tmp_path: Path) -> None:
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(
        "# generated\nPG_CB_WRITER_PASSWORD='from-file-1'\nPG_PORT=5432\n",
        encoding="utf-8",
    )
    environ = {
        "MYSQL_ADMIN_PASSWORD": "env-2",
        "CREDITBRIDGE_PG_URL": "postgresql://cb_writer:url-3@127.0.0.1/credit",
        "HOME": "/root",
    }

    found = secrets_from_environment(environ, secrets_file)

    assert sorted(found) == ["env-2", "from-file-1", "url-3"]
