"""``check`` and ``preview`` given a live URL whose password is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.devenv.api import DevEnv

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _wrong_password(url: str) -> str:
    return (
        sa.make_url(url)
        .set(password="wrong-password")
        .render_as_string(hide_password=False)
    )


def test_check_with_a_wrong_mysql_password_fails_naming_the_login(
    dev_env: DevEnv,
) -> None:
    """Pins: a login failure blamed on whichever table was inspected first."""
    url = _wrong_password(dev_env.mysql.url("admin"))
    pg = dev_env.postgres.url("admin")
    port = dev_env.mysql.port

    mapping = str(REPO / "mappings" / "xyzg_to_gsxt.yaml")

    result = runner.invoke(app, ["check", "--pg-url", pg, "--mysql-url", url, mapping])

    assert result.exit_code == 1
    assert result.output.startswith(
        f"FAILED: cannot connect to mysql+pymysql://cb_admin:***@127.0.0.1:{port}/gsxt"
    )
    assert " as cb_admin: (1045, \"Access denied for user 'cb_admin'@" in result.output
    assert result.output.endswith(
        '(using password: YES)"); check the URL and password (--mysql-url or '
        "$CREDITBRIDGE_MYSQL_URL) and that the server is running; nothing was "
        "checked\n"
    )
    assert "wrong-password" not in result.output


def test_preview_with_a_wrong_postgres_password_says_the_login_failed(
    dev_env: DevEnv,
) -> None:
    """Pins: "no reachable database holds xyzg.xyxf_jg" for a refused login."""
    url = _wrong_password(dev_env.postgres.url("admin"))
    port = dev_env.postgres.port
    mapping = str(REPO / "mappings" / "xyzg_to_gsxt.yaml")

    result = runner.invoke(app, ["preview", mapping, "--from-db", "1", "--pg-url", url])

    assert result.exit_code == 2
    assert result.output == (
        f"FAILED: cannot connect to postgresql+psycopg://cb_admin:***@127.0.0.1:{port}"
        f"/creditbridge as cb_admin: connection failed: connection to server at "
        f'"127.0.0.1", port {port} failed: FATAL: password authentication failed for '
        'user "cb_admin"; check the URL and password (--pg-url or '
        "$CREDITBRIDGE_PG_URL) and that the server is running; nothing was "
        "previewed\n"
    )
