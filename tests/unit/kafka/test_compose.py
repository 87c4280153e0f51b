"""docker-compose.yml stays consistent with the connector files the tests run.

No Docker engine runs here, so the compose file is checked as data: every connector
file is registered, every ``${env:...}`` it references is provided to Connect, hosts
and ports match the services, and the databases are configured for capture.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bridge.capture.connectors import load_connector
from bridge.capture.kafka_topics import connector_topics
from bridge.pipeline.config import RunConfig

ROOT = Path(__file__).resolve().parents[3]
CONNECTOR_FILES = sorted((ROOT / "connectors").glob("*.json"))
ENV_REFERENCE = re.compile(r"\$\{env:([^}]+)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(ROOT / "docker-compose.yml")
    return loaded


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def _bridge_config(compose: dict[str, Any]) -> dict[str, Any]:
    # Compose turns "$$" into "$" when it reads the file.
    text = compose["configs"]["bridge-config"]["content"].replace("$$", "$")
    loaded: dict[str, Any] = YAML(typ="safe").load(text)
    return loaded


def test_every_connector_file_is_registered_from_the_mounted_folder(
    compose: dict[str, Any],
) -> None:
    register = _service(compose, "register-connectors")

    assert "./connectors:/app/connectors:ro" in register["volumes"]
    registered = [a for a in register["command"] if a.endswith(".json")]
    assert registered == [f"/app/connectors/{p.name}" for p in CONNECTOR_FILES]
    assert register["command"][:3] == ["creditbridge", "connectors", "apply"]
    assert "http://connect:8083" in register["command"]


@pytest.mark.parametrize("path", CONNECTOR_FILES, ids=lambda p: p.name)
def test_connect_provides_every_env_reference_of_the_connector(
    compose: dict[str, Any], path: Path
) -> None:
    environment = _service(compose, "connect")["environment"]
    referenced = set(ENV_REFERENCE.findall(path.read_text(encoding="utf-8")))

    assert referenced - set(environment) == set()


def test_connect_resolves_env_references_and_reaches_kafka(
    compose: dict[str, Any],
) -> None:
    environment = _service(compose, "connect")["environment"]
    kafka = _service(compose, "kafka")["environment"]

    assert environment["CONNECT_CONFIG_PROVIDERS"] == "env,file"
    assert environment["CONNECT_CONFIG_PROVIDERS_ENV_CLASS"] == (
        "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    )
    assert kafka["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert environment["BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert environment["CREDITBRIDGE_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert _bridge_config(compose)["kafka"]["bootstrap_servers"] == "kafka:9092"
    assert environment["CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE"] == "false"


def test_database_hosts_ports_and_names_match_the_services(
    compose: dict[str, Any],
) -> None:
    connect = _service(compose, "connect")["environment"]
    postgres = _service(compose, "postgres")
    mysql = _service(compose, "mysql")

    assert connect["CREDITBRIDGE_PG_HOST"] == "postgres"
    assert postgres["ports"] == [f"127.0.0.1:5432:{connect['CREDITBRIDGE_PG_PORT']}"]
    assert connect["CREDITBRIDGE_PG_DATABASE"] == postgres["environment"]["POSTGRES_DB"]
    assert connect["CREDITBRIDGE_MYSQL_HOST"] == "mysql"
    assert mysql["ports"] == [f"127.0.0.1:3306:{connect['CREDITBRIDGE_MYSQL_PORT']}"]


def test_published_ports_listen_on_loopback_only(compose: dict[str, Any]) -> None:
    published = [
        port
        for service in compose["services"].values()
        for port in service.get("ports", [])
    ]

    assert published == [
        "127.0.0.1:5432:5432",
        "127.0.0.1:3306:3306",
        "127.0.0.1:9092:9092",
        "127.0.0.1:8083:8083",
    ]


def test_postgres_decodes_logically(compose: dict[str, Any]) -> None:
    command = _service(compose, "postgres")["command"]

    assert "wal_level=logical" in command
    assert command[command.index("wal_level=logical") - 1] == "-c"


def test_mysql_writes_full_row_binlog_with_gtids(compose: dict[str, Any]) -> None:
    command = _service(compose, "mysql")["command"]
    necips = load_connector(ROOT / "connectors" / "necips-outcomes.json")

    for setting in (
        "--log-bin=mysql-bin",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--gtid-mode=ON",
        "--enforce-gtid-consistency=ON",
        "--character-set-server=utf8mb4",
    ):
        assert setting in command
    server_id = next(a for a in command if a.startswith("--server-id="))
    assert server_id.split("=")[1] != necips.config["database.server.id"]


def test_bridge_pipelines_read_kafka_with_the_registered_connectors(
    compose: dict[str, Any],
) -> None:
    config = RunConfig.model_validate(_bridge_config(compose))
    bridge = _service(compose, "bridge")

    assert "./connectors:/app/connectors:ro" in bridge["volumes"]
    assert "./mappings:/app/mappings:ro" in bridge["volumes"]
    assert {p.transport for p in config.pipelines} == {"kafka"}
    for pipeline in config.pipelines:
        local = ROOT / pipeline.connector.relative_to("/app")
        assert local in CONNECTOR_FILES
        for mapping in pipeline.mappings:
            assert (ROOT / mapping.relative_to("/app")).is_file()


def test_connector_topics_do_not_collide() -> None:
    topics = [
        t for p in CONNECTOR_FILES for t in connector_topics(load_connector(p), 3)
    ]
    prefixes = [load_connector(p).topic_prefix for p in CONNECTOR_FILES]

    assert len(topics) == len(set(topics))
    assert sorted(prefixes) == ["creditchina", "necips"]
