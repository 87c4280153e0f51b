"""The demo instance's real passwords never reach a log stream."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from bridge.observe.logging import configure_logging

pytestmark = pytest.mark.db

ID_NUMBERS = ("520102199003073128", "11010519491231002X")


def test_demo_secrets_and_id_numbers_are_not_in_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bridge.devenv.api import ensure_up
    from bridge.devenv.home import read_env_file

    env = ensure_up()
    secrets = read_env_file(env.home / "secrets.env")
    assert len(secrets) == 6
    monkeypatch.setenv("CREDITBRIDGE_HOME", str(env.home))
    buffer = io.StringIO()
    handler = configure_logging("DEBUG", stream=buffer)

    try:
        _log_like_the_bridge(env, secrets)
    finally:
        logging.getLogger().removeHandler(handler)

    output = buffer.getvalue()
    assert len(output.splitlines()) >= 8
    leaked = [name for name, value in secrets.items() if value in output]
    assert leaked == []
    assert [number for number in ID_NUMBERS if number in output] == []
    assert "520102********3128" in output
    assert "110105********002X" in output


def _log_like_the_bridge(env: Any, secrets: dict[str, str]) -> None:
    log = logging.getLogger("bridge.pipeline.runner")
    for server in (env.postgres, env.mysql):
        for role in ("admin", "capture", "writer"):
            log.info("connecting %s to %s", role, server.url(role))
    connector = {"database.user": "cb_capture",
                 "database.password": secrets["PG_CAPTURE_PASSWORD"]}
    log.debug("starting Debezium with %s", connector)
    log.warning("row dead-lettered", extra={
        "pipeline": "gsxt-to-xyzg", "table": "E_CR_REPAIR",
        "key": {"CERNO": ID_NUMBERS[0]}, "position": f"holder {ID_NUMBERS[1]}",
    })
    try:
        raise PermissionError(f"login refused for {secrets['MYSQL_ADMIN_PASSWORD']}")
    except PermissionError:
        log.exception("admin step failed")
