"""``creditbridge dlq`` without databases: the errors people see first."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bridge.apply import deadletter
from bridge.cli import dlq
from bridge.cli.main import app
from bridge.errors import DevEnvError

runner = CliRunner()


def _not_running(home: Any = None) -> Any:
    raise DevEnvError(
        "the local demo databases are not running (state in /x); start them with "
        "`creditbridge dev up`"
    )


def _started(home: Any = None) -> Any:
    raise AssertionError("a read-only command started the demo databases")


def _one_line(output: str) -> str:
    return " ".join(output.split())


def test_list_with_the_demo_databases_down_does_not_start_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: `dlq list` after `dev down` silently starting both servers."""
    monkeypatch.setattr("bridge.devenv.api.running", _not_running)
    monkeypatch.setattr("bridge.devenv.api.ensure_up", _started)

    result = runner.invoke(app, ["dlq", "list", "--target", "pg"])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        "FAILED: the local demo databases are not running (state in /x); start them "
        "with `creditbridge dev up`, or give --url; nothing was read"
    )


def test_list_with_an_unreachable_url_is_one_line_without_the_password() -> None:
    """Pins: a Python traceback for `dlq list --url` with a wrong password."""
    url = "postgresql+psycopg://cb_writer:secretpw@127.0.0.1:1/x"

    result = runner.invoke(app, ["dlq", "list", "--url", url])

    assert result.exit_code == 1
    text = _one_line(result.output)
    assert text.startswith(
        "FAILED: cannot connect to postgresql+psycopg://cb_writer:***@127.0.0.1:1/x "
        'as cb_writer: connection failed: connection to server at "127.0.0.1", port '
        "1 failed: Connection refused"
    )
    assert text.endswith(
        "check the URL and password and that the server is running; nothing was "
        "read or changed"
    )
    assert "secretpw" not in result.output and "Traceback" not in result.output


def test_an_unknown_target_names_the_choices() -> None:
    result = runner.invoke(app, ["dlq", "list", "--target", "oracle"])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        "FAILED: --target 'oracle' is not one of pg, mysql (the local demo "
        "databases); give one of them or --url; nothing was read"
    )


def test_show_says_why_a_mapping_refusal_has_no_target_table() -> None:
    """Pins: `dlq show` printing an empty target_table."""
    names = (
        "pipeline", "status", "created_at", "source_table", "target_table",
        "event_key", "source_position", "mapping_name", "mapping_path",
        "mapping_version", "error_class", "error_code", "message", "attempts",
        "discard_reason", "replayed_at", "raw_event",
    )  # fmt: skip
    letter = SimpleNamespace(**dict.fromkeys(names), event="{}")

    fields = dict(dlq._fields(letter))

    assert fields["target_table"] == (
        "(none: the mapping refused the row before a target row existed; its target "
        "table is the mapping's target.table)"
    )
    assert fields["source_table"] == ""


def test_an_unknown_status_names_the_choices() -> None:
    """Pins: `dlq list --status bogus` printing an empty table and exiting 0."""
    result = runner.invoke(app, ["dlq", "list", "--status", "bogus"])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        "FAILED: --status 'bogus' is not one of new, replayed, discarded, all; "
        "nothing was read"
    )


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ([], "no new dead letters in pg or mysql"),
        (["--status", "all"], "no dead letters in pg or mysql"),
        (
            ["--status", "discarded", "--pipeline", "xyzg-to-gsxt"],
            "no discarded dead letters of pipeline 'xyzg-to-gsxt' in pg or mysql",
        ),
    ],
)
def test_an_empty_list_says_so_with_its_filter(
    monkeypatch: pytest.MonkeyPatch, options: list[str], said: str
) -> None:
    """Pins: a header-only table when no dead letter matches."""
    databases = [dlq.TargetDatabase(name, engine=None) for name in ("pg", "mysql")]
    monkeypatch.setattr(dlq, "target_databases", lambda target, url: databases)
    monkeypatch.setattr(dlq, "_letters", lambda *args: [])

    result = runner.invoke(app, ["dlq", "list", *options])

    assert result.exit_code == 0
    assert _one_line(result.output) == said


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (
            [],
            "FAILED: give the ids of the dead letters to replay, or --all for every "
            "new one; nothing was replayed",
        ),
        (
            ["3", "--all"],
            "FAILED: give dead letter ids or --all, not both; nothing was replayed",
        ),
    ],
)
def test_replay_says_what_is_missing_or_too_much(
    arguments: list[str], said: str
) -> None:
    """Pins: `dlq replay` alone saying '(not both)' when nothing was given."""
    result = runner.invoke(app, ["dlq", "replay", *arguments])

    assert result.exit_code == 1
    assert _one_line(result.output) == said


def test_show_prints_the_raw_debezium_record_once() -> None:
    """Pins: `dlq show` printing the raw event as raw_event and again as event.raw."""
    raw = '{"payload": {"op": "c", "after": {"xf_bh": "XF-1"}}}'
    names = (
        "pipeline", "status", "created_at", "source_table", "target_table",
        "event_key", "source_position", "mapping_name", "mapping_path",
        "mapping_version", "error_class", "error_code", "message", "attempts",
        "discard_reason", "replayed_at",
    )  # fmt: skip
    event = json.dumps({"op": "c", "table": "xyxf_jg", "raw": raw})
    letter = SimpleNamespace(**dict.fromkeys(names), raw_event=raw, event=event)

    fields = dict(dlq._fields(letter))

    assert fields["raw_event"] == raw
    assert json.loads(fields["event"]) == {"op": "c", "table": "xyxf_jg"}


def test_a_libpq_string_as_url_is_refused_without_its_password() -> None:
    """Pins: `sqlalchemy.exc.ArgumentError` traceback for a non-URL --url."""
    dsn = "host=127.0.0.1 port=1 dbname=creditbridge password=secretpw"

    result = runner.invoke(app, ["dlq", "list", "--url", dsn])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        "FAILED: --url: 'host=127.0.0.1 port=1 dbname=creditbridge password=***' is "
        "a libpq connection string, not a URL; give it as "
        "postgresql+psycopg://USER:PASSWORD@127.0.0.1:1/creditbridge; nothing was "
        "read or changed"
    )
    assert "secretpw" not in result.output


def test_a_postgres_scheme_url_is_taken_as_psycopg() -> None:
    """Pins: `Can't load plugin: sqlalchemy.dialects:postgres` for postgres:// URLs."""
    url = "postgres://cb_writer:secretpw@127.0.0.1:1/x"

    result = runner.invoke(app, ["dlq", "list", "--url", url])

    assert result.exit_code == 1
    assert _one_line(result.output).startswith(
        "FAILED: cannot connect to postgresql+psycopg://cb_writer:***@127.0.0.1:1/x "
        "as cb_writer: connection failed:"
    )
    assert "secretpw" not in result.output and "Traceback" not in result.output


def _letter(letter_id: int, key: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(
        id=letter_id,
        event_key=key,
        status="new",
        pipeline="xyzg-to-gsxt",
        created_at=datetime(2026, 12, 4, 17, 2, 19, 123456),
        source_table="xyzg.xyxf_jg",
        error_class="MappingError",
        message=message,
    )


def test_list_keeps_key_and_id_whole_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: `xyzg-to…`, `{"xf_bh…`, `Mappin…`: every cell cut at 80 columns.

    Columns line up in terminal cells: a Chinese character takes two.
    """
    databases = [dlq.TargetDatabase(name, engine=None) for name in ("pg", "mysql")]
    letters = {
        "pg": [],
        "mysql": [
            _letter(
                49,
                '{"xf_bh": "XF-XYZG-110000-20251201-0004"}',
                "UNISCID (from xdr_shxym): USCC '91110108MAKFGU0C4F' has check "
                "character 'F', but positions 1-17 give 'E'",
            ),
            _letter(
                1050,
                '{"PENDECNO": "沪浦市监处[2024]123号", "REPAIRNO": 7}',
                "PENDECNO: too long [mgMG]",
            ),
        ],
    }
    monkeypatch.setattr(dlq, "target_databases", lambda target, url: databases)
    monkeypatch.setattr(dlq, "_letters", lambda db, *args: letters[db.label])
    monkeypatch.setattr(dlq, "console", Console(width=80, color_system=None))

    result = runner.invoke(app, ["dlq", "list"])

    assert result.exit_code == 0
    assert [line.rstrip() for line in result.output.splitlines()] == [
        "dead letters (new)",
        "  id  key                                        status  pipeline      "
        "database",
        "  49  XF-XYZG-110000-20251201-0004               new     xyzg-to-gsxt  mysql",
        "      2026-12-04 17:02:19 UTC, xyzg.xyxf_jg: MappingError: UNISCID (from",
        "      xdr_shxym): USCC '91110108MAKFGU0C4F' has check character 'F', but",
        "      positions 1-17 give 'E'",
        "1050  PENDECNO=沪浦市监处[2024]123号 REPAIRNO=7  new     xyzg-to-gsxt  mysql",
        "      2026-12-04 17:02:19 UTC, xyzg.xyxf_jg: MappingError: PENDECNO: too long",
        "      [mgMG]",
    ]


def test_list_from_one_database_names_it_in_the_title(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    databases = [dlq.TargetDatabase("mysql", engine=None)]
    letter = _letter(3, '{"xf_bh": "XF-1"}', "boom")
    monkeypatch.setattr(dlq, "target_databases", lambda target, url: databases)
    monkeypatch.setattr(dlq, "_letters", lambda *args: [letter])
    monkeypatch.setattr(dlq, "console", Console(width=80, color_system=None))

    result = runner.invoke(app, ["dlq", "list", "--target", "mysql"])

    assert [line.rstrip() for line in result.output.splitlines()] == [
        "dead letters (new) in mysql",
        "id  key   status  pipeline",
        " 3  XF-1  new     xyzg-to-gsxt",
        "    2026-12-04 17:02:19 UTC, xyzg.xyxf_jg: MappingError: boom",
    ]


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ('{"xf_bh": "XF-XYZG-110000-20251201-0004"}', "XF-XYZG-110000-20251201-0004"),
        ('{"a": 1, "b": "x"}', "a=1 b=x"),
        ("not json", "not json"),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_a_key_is_shown_by_its_values(key: str, shown: str) -> None:
    assert deadletter.key_text(key) == shown


@pytest.mark.parametrize("reason", ["", "   "])
def test_discard_refuses_a_blank_reason(reason: str) -> None:
    """Pins: `dlq discard 3 --reason ""` accepted although a reason is required."""
    result = runner.invoke(app, ["dlq", "discard", "3", "--reason", reason])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        "FAILED: --reason is empty; say why the dead letter is discarded (it is kept "
        "with it); nothing was changed"
    )


def test_a_failure_prints_bracketed_text_as_written() -> None:
    """Pins: rich taking `[mgMG]` in a message for a markup tag and dropping it."""
    result = runner.invoke(app, ["dlq", "list", "--status", "[mgMG]"])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        "FAILED: --status '[mgMG]' is not one of new, replayed, discarded, all; "
        "nothing was read"
    )
