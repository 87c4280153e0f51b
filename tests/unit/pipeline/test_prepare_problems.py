"""``prepare`` lists every problem it finds before it connects to anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.pipeline.config import load_run_config
from bridge.pipeline.runner import prepare

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "creditbridge.yaml"


@pytest.fixture
def nothing_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CREDITBRIDGE_"):
            monkeypatch.delenv(name)


def _unset(connector: str, key: str, prefix: str, part: str) -> str:
    return (
        f"  {REPO}/connectors/{connector}: config.{key}: environment variable "
        f"{prefix}_{part} is not set; export {prefix}_CAPTURE_URL (`creditbridge dev "
        f"env` prints it for the local demo databases) or {prefix}_{part} itself"
    )


@pytest.mark.usefixtures("nothing_exported")
def test_unset_writer_urls_are_listed_with_the_connector_variables() -> None:
    """Pins: the writer URLs reported only once the connector variables were set.

    And "nothing was started" said in every pipeline's block: the heading says it.
    """
    with pytest.raises(ConfigError) as raised:
        prepare(load_run_config(CONFIG))

    pg, mysql = "credit-china-outcomes.json", "necips-outcomes.json"
    assert str(raised.value).splitlines() == [
        "the bridge did not start; fix these problems and start again:",
        "pipeline xyzg-to-gsxt:",
        _unset(pg, "database.hostname", "CREDITBRIDGE_PG", "HOST"),
        _unset(pg, "database.port", "CREDITBRIDGE_PG", "PORT"),
        _unset(pg, "database.dbname", "CREDITBRIDGE_PG", "DATABASE"),
        _unset(pg, "database.password", "CREDITBRIDGE_PG", "CAPTURE_PASSWORD"),
        f"  {CONFIG}:10:5: databases.necips.url: environment variable "
        "CREDITBRIDGE_MYSQL_WRITER_URL is not set; set it (see `creditbridge dev "
        "env`) and start again",
        "pipeline gsxt-to-xyzg:",
        _unset(mysql, "database.hostname", "CREDITBRIDGE_MYSQL", "HOST"),
        _unset(mysql, "database.port", "CREDITBRIDGE_MYSQL", "PORT"),
        _unset(mysql, "database.password", "CREDITBRIDGE_MYSQL", "CAPTURE_PASSWORD"),
        f"  {CONFIG}:8:5: databases.credit_china.url: environment variable "
        "CREDITBRIDGE_PG_WRITER_URL is not set; set it (see `creditbridge dev env`) "
        "and start again",
    ]


@pytest.mark.usefixtures("nothing_exported")
def test_run_configuration_problems_come_first_in_the_same_report() -> None:
    config = load_run_config(CONFIG)
    config = config.model_copy(update={"pipelines": config.pipelines[:1]})
    problem = f"{CONFIG}:28:3: observe.http_pot: unknown key 'http_pot' in observe"

    with pytest.raises(ConfigError) as raised:
        prepare(config, config_problems=[problem])

    lines = str(raised.value).splitlines()
    assert lines[:3] == [
        "the bridge did not start; fix these problems and start again:",
        problem,
        "pipeline xyzg-to-gsxt:",
    ]
