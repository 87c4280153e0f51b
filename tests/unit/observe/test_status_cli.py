"""``creditbridge status`` when neither the bridge nor the demo databases run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.errors import DevEnvError
from bridge.observe.status import StatusReport

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _not_running(home: Any = None) -> Any:
    raise DevEnvError(
        "the local demo databases are not running (state in /x); start them with "
        "`creditbridge dev up`"
    )


def _started(home: Any = None) -> Any:
    raise AssertionError("status started the demo databases")


def test_status_does_not_start_the_demo_databases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: plain `creditbridge status` after `dev down` starting both servers."""
    monkeypatch.setattr("bridge.devenv.api.running", _not_running)
    monkeypatch.setattr("bridge.devenv.api.ensure_up", _started)

    result = CliRunner().invoke(app, ["status", "--url", "http://127.0.0.1:1"])

    assert result.exit_code == 1
    assert result.output == (
        "FAILED: no bridge answers at http://127.0.0.1:1, and the local demo "
        "databases are not running (state in /x); start them with "
        "`creditbridge dev up`\n"
    )


def _reading(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the stopped-bridge reading is asked for; it reads nothing itself."""
    asked: dict[str, Any] = {}

    def read(databases: Any, *, slots: Any, order: Any) -> StatusReport:
        asked.update(databases=dict(databases), slots=slots, order=order)
        return StatusReport(generated_at=T0, pipelines=[], origin="databases")

    monkeypatch.setattr("bridge.cli.status.read_database_status", read)
    return asked


def test_the_demo_pipelines_read_like_the_running_bridge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: `→` stopped but `->` running, and no slot retention for xyzg-to-gsxt."""
    asked = _reading(monkeypatch)
    env = SimpleNamespace(
        postgres=SimpleNamespace(url=lambda role: f"postgresql+psycopg://{role}@pg/x"),
        mysql=SimpleNamespace(url=lambda role: f"mysql+pymysql://{role}@my/gsxt"),
    )
    monkeypatch.setattr("bridge.devenv.api.running", lambda home=None: env)
    monkeypatch.chdir(ROOT)  # where `creditbridge run --dev` finds creditbridge.yaml

    result = CliRunner().invoke(
        app, ["status", "--json", "--url", "http://127.0.0.1:1"]
    )

    assert result.exit_code == 0, result.output
    assert asked == {
        "databases": {
            "credit_china": (
                "postgresql+psycopg://writer@pg/x",
                "NECIPS -> Credit China",
            ),
            "necips": ("mysql+pymysql://writer@my/gsxt", "Credit China -> NECIPS"),
        },
        "slots": {"xyzg-to-gsxt": "creditbridge_credit_china"},
        "order": ["xyzg-to-gsxt", "gsxt-to-xyzg"],
    }


def test_a_run_configuration_gives_urls_descriptions_and_slots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _reading(monkeypatch)
    monkeypatch.setenv("CREDITBRIDGE_PG_WRITER_URL", "postgres://w:pw@127.0.0.1/x")
    monkeypatch.setenv("CREDITBRIDGE_MYSQL_WRITER_URL", "mysql://w:pw@127.0.0.1/gsxt")
    config = str(ROOT / "creditbridge.yaml")

    result = CliRunner().invoke(
        app, ["status", "--json", "--url", "http://127.0.0.1:1", "--config", config]
    )

    assert result.exit_code == 0, result.output
    urls = {
        name: (url.render_as_string(hide_password=False), direction)
        for name, (url, direction) in asked["databases"].items()
    }
    assert urls == {
        "credit_china": (
            "postgresql+psycopg://w:pw@127.0.0.1/x",
            "NECIPS -> Credit China",
        ),
        "necips": ("mysql+pymysql://w:pw@127.0.0.1/gsxt", "Credit China -> NECIPS"),
    }
    assert asked["slots"] == {"xyzg-to-gsxt": "creditbridge_credit_china"}
    assert asked["order"] == ["xyzg-to-gsxt", "gsxt-to-xyzg"]


def test_a_libpq_string_in_the_environment_names_the_key_and_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: a traceback when a run configuration's URL is not a URL."""
    _reading(monkeypatch)
    monkeypatch.setenv(
        "CREDITBRIDGE_PG_WRITER_URL", "host=127.0.0.1 dbname=x password=secretpw"
    )
    monkeypatch.setenv("CREDITBRIDGE_MYSQL_WRITER_URL", "mysql://w@127.0.0.1/gsxt")
    config = ROOT / "creditbridge.yaml"

    result = CliRunner().invoke(
        app, ["status", "--url", "http://127.0.0.1:1", "--config", str(config)]
    )

    assert result.exit_code == 1
    assert result.output == (
        "FAILED: no bridge answers at http://127.0.0.1:1, and "
        f"{config}: databases.credit_china.url (${{env:CREDITBRIDGE_PG_WRITER_URL}}): "
        "'host=127.0.0.1 dbname=x password=***' is a libpq connection string, not a "
        "URL; give it as postgresql+psycopg://USER:PASSWORD@127.0.0.1:5432/x; "
        "nothing was read\n"
    )
