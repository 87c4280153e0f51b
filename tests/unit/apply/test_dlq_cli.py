"""``creditbridge dlq`` without databases: the errors people see first."""

from __future__ import annotations

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
