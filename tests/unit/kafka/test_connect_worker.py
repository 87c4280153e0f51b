"""The standalone Connect worker's files and classpath (no JVM started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.devenv.connect import (
    connect_classpath,
    connector_properties,
    jetty_security_jar,
    worker_properties,
    write_properties,
)
from bridge.errors import ConfigError


def test_properties_keep_secret_references_literal(tmp_path: Path) -> None:
    path = tmp_path / "c.properties"

    write_properties(
        path,
        {
            "database.password": "${env:PG_CAPTURE_PASSWORD}",
            "table.include.list": "xyzg.xyxf_jg,xyzg.xzcf_gs",
            "a=b": "c:d\\e",
        },
    )

    assert path.read_text(encoding="utf-8") == (
        "database.password=${env\\:PG_CAPTURE_PASSWORD}\n"
        "table.include.list=xyzg.xyxf_jg,xyzg.xzcf_gs\n"
        "a\\=b=c\\:d\\\\e\n"
    )


def test_connector_properties_flatten_name_and_config() -> None:
    connector = {
        "name": "credit-china-outcomes",
        "config": {"topic.prefix": "cc", "tasks.max": "1"},
    }

    assert connector_properties(connector) == {
        "name": "credit-china-outcomes",
        "topic.prefix": "cc",
        "tasks.max": "1",
    }


def test_worker_listens_on_loopback_and_resolves_env_and_file_references(
    tmp_path: Path,
) -> None:
    settings = worker_properties("127.0.0.1:9092", 18083, tmp_path)

    assert settings["listeners"] == "http://127.0.0.1:18083"
    assert settings["config.providers"] == "env,file"
    assert settings["config.providers.env.class"] == (
        "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    )
    assert settings["config.providers.file.class"] == (
        "org.apache.kafka.common.config.provider.FileConfigProvider"
    )
    assert settings["offset.storage.file.filename"] == str(tmp_path / "offsets.dat")
    assert settings["value.converter.schemas.enable"] == "false"


def test_classpath_leaves_out_jetty_9_and_unused_connectors(tmp_path: Path) -> None:
    """Pins the REST server failure: Jetty 9 security on the path breaks Jetty 12."""
    names = [
        "connect-runtime-4.3.0.jar",
        "debezium-connector-postgres-3.6.3.Final.jar",
        "debezium-connector-oracle-3.6.3.Final.jar",
        "jetty-security-9.4.12.v20180830.jar",
        "jetty-servlet-9.4.12.v20180830.jar",
        "jetty-server-12.0.34.jar",
        "jetty-ee10-servlet-12.0.34.jar",
        "kafka-clients-4.3.0.jar",
        "s3-2.26.30.jar",
    ]
    for name in names:
        (tmp_path / name).touch()
    security = Path("/elsewhere/jetty-security-12.0.20.jar")

    chosen = [jar.name for jar in connect_classpath(tmp_path, security)]

    assert chosen == [
        "connect-runtime-4.3.0.jar",
        "debezium-connector-postgres-3.6.3.Final.jar",
        "jetty-ee10-servlet-12.0.34.jar",
        "jetty-server-12.0.34.jar",
        "kafka-clients-4.3.0.jar",
        "jetty-security-12.0.20.jar",
    ]


def test_configured_jetty_jar_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "jetty-security-12.0.1.jar"
    monkeypatch.setenv("CREDITBRIDGE_JETTY_SECURITY_JAR", str(missing))

    with pytest.raises(ConfigError) as caught:
        jetty_security_jar(tmp_path)

    assert str(caught.value) == (
        f"CREDITBRIDGE_JETTY_SECURITY_JAR={missing}: no such file; point it at a "
        "jetty-security 12 jar or unset it, and start again"
    )


def test_cached_jetty_jar_is_used_before_searching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDITBRIDGE_JETTY_SECURITY_JAR", raising=False)
    cache = tmp_path / "connect" / "jars"
    cache.mkdir(parents=True)
    (cache / "jetty12-security-12.0.40.jar").touch()

    assert jetty_security_jar(tmp_path) == cache / "jetty12-security-12.0.40.jar"
