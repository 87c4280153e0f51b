"""``run``'s mapping check against the real dev servers: wrong passwords, no table."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from bridge.devenv.api import DevEnv
from bridge.errors import ConfigError
from bridge.pipeline.runner import _check_mappings

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[3]
MAPPING = REPO / "mappings" / "gsxt_to_xyzg.yaml"


def _wrong_password(url: str) -> str:
    return (
        sa.make_url(url)
        .set(password="wrong-password")
        .render_as_string(hide_password=False)
    )


def test_wrong_passwords_name_the_login_not_the_tables(dev_env: DevEnv) -> None:
    """Pins: a refused login reported as "gsxt.E_CR_REPAIR does not exist"."""
    capture = _wrong_password(dev_env.mysql.url("capture"))
    writer = _wrong_password(dev_env.postgres.url("writer"))
    mysql_port, pg_port = dev_env.mysql.port, dev_env.postgres.port

    with pytest.raises(ConfigError) as raised:
        _check_mappings(
            [MAPPING], [(capture, "the capture account"), (writer, "the writer URL")]
        )

    lines = str(raised.value).splitlines()
    assert lines[0].startswith(
        f"cannot connect to mysql+pymysql://cb_capture:***@127.0.0.1:{mysql_port}/"
        'gsxt?charset=utf8mb4 as cb_capture: (1045, "Access denied for user '
        "'cb_capture'@"
    )
    assert lines[0].endswith(
        '(using password: YES)"); check the URL and password of the capture '
        "account and that the server is running; nothing was started"
    )
    assert lines[1] == (
        f"cannot connect to postgresql+psycopg://cb_writer:***@127.0.0.1:{pg_port}/"
        f"creditbridge as cb_writer: connection failed: connection to server at "
        f'"127.0.0.1", port {pg_port} failed: FATAL: password authentication failed '
        'for user "cb_writer"; check the URL and password of the writer URL and that '
        "the server is running; nothing was started"
    )
    assert len(lines) == 2 and "wrong-password" not in str(raised.value)


def test_a_reachable_database_without_the_table_still_says_so(
    dev_env: DevEnv, tmp_path: Path
) -> None:
    mapping = tmp_path / "m.yaml"
    text = MAPPING.read_text(encoding="utf-8")
    mapping.write_text(
        text.replace("table: xyzg.xyxf_jg_gsxt", "table: xyzg.no_such_table"),
        encoding="utf-8",
    )
    accounts = [
        (dev_env.mysql.url("capture"), "the capture account"),
        (dev_env.postgres.url("writer"), "the writer URL"),
    ]

    with pytest.raises(ConfigError) as raised:
        _check_mappings([mapping], accounts)

    assert [line.split(": ", 1)[1] for line in str(raised.value).splitlines()] == [
        "target.table: table xyzg.no_such_table does not exist in the live schema"
    ]


def test_mapping_warnings_are_logged_and_the_bridge_may_start(
    dev_env: DevEnv, caplog: pytest.LogCaptureFixture
) -> None:
    mapping = REPO / "mappings" / "xyzg_to_gsxt.yaml"
    accounts = [
        (dev_env.postgres.url("capture"), "the capture account"),
        (dev_env.mysql.url("writer"), "the writer URL"),
    ]

    with caplog.at_level(logging.WARNING, logger="bridge.pipeline.runner"):
        _check_mappings([mapping], accounts)

    assert caplog.messages == [
        f"{mapping}: 5 warnings (columns.ENTNAME.from, columns.PENDECNO.from, "
        "columns.PENDECNO_NORM.from, columns.REPDECNO.from, "
        "columns.REPDECORG_CN.from): risks check cannot rule out; a row that hits one "
        f"goes to the dead-letter table; `creditbridge check {mapping}` explains each"
    ]
