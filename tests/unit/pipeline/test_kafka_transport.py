"""``transport: kafka`` in the run configuration: consumer settings and offset reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.capture.connectors import load_connector
from bridge.errors import ConfigError
from bridge.pipeline.config import load_run_config
from bridge.pipeline.kafka_transport import kafka_capture, reset_pipeline_offsets

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITBRIDGE_PG_WRITER_URL", "postgresql+psycopg://w:pw@db/cc")
    monkeypatch.setenv("CREDITBRIDGE_MYSQL_WRITER_URL", "mysql+pymysql://w:pw@db/gs")
    monkeypatch.setenv("CREDITBRIDGE_KAFKA_BOOTSTRAP", "10.0.0.5:9092")


class _Direction:
    name = "xyzg-to-gsxt"

    def write_in(self, connection: object, records: object) -> None: ...

    def committed(self) -> None: ...


@pytest.mark.usefixtures("urls")
def test_the_shipped_kafka_config_joins_one_group_per_pipeline_on_data_topics() -> None:
    import sqlalchemy as sa

    config = load_run_config(ROOT / "creditbridge.kafka.yaml")
    pipeline = config.pipelines[0]
    engine = sa.create_engine("postgresql+psycopg://w:pw@127.0.0.1:9/cc")  # unused

    capture = kafka_capture(
        config.kafka,
        load_connector(pipeline.connector),
        engine,
        _Direction(),  # type: ignore[arg-type]
    )

    assert [p.transport for p in config.pipelines] == ["kafka", "kafka"]
    assert capture.settings.bootstrap_servers == "10.0.0.5:9092"
    assert capture.settings.group_id == "creditbridge-xyzg-to-gsxt"
    assert capture.settings.topics == (
        "creditchina.xyzg.xyxf_jg",
        "creditchina.bridge.heartbeat",
    )
    assert (capture.settings.max_batch, capture.settings.session_timeout_ms) == (
        2048,
        10_000,
    )


@pytest.mark.usefixtures("urls")
def test_reset_offsets_of_an_unknown_pipeline_names_the_known_ones() -> None:
    config = load_run_config(ROOT / "creditbridge.kafka.yaml")

    with pytest.raises(ConfigError) as caught:
        reset_pipeline_offsets(config, "xyzg-to-gsx")

    assert str(caught.value) == (
        "no pipeline 'xyzg-to-gsx' in the run configuration (pipelines: "
        "gsxt-to-xyzg, xyzg-to-gsxt); nothing was changed"
    )


@pytest.mark.usefixtures("urls")
def test_reset_offsets_of_an_embedded_pipeline_changes_nothing() -> None:
    config = load_run_config(ROOT / "creditbridge.yaml")

    with pytest.raises(ConfigError) as caught:
        reset_pipeline_offsets(config, "gsxt-to-xyzg")

    assert str(caught.value) == (
        "pipeline gsxt-to-xyzg uses transport embedded, which keeps no Kafka "
        "offsets; nothing was changed"
    )
