"""``creditbridge dlq`` without databases: the errors people see first."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

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
