"""``creditbridge run`` with ``transport: kafka``: the real bridge code behind Kafka.

PostgreSQL and MySQL -> Debezium in Kafka Connect -> Tansu -> ``creditbridge run``
children (decode, map, apply into the demo staging tables) with offsets stored in
the targets. The demo tables are used under the demo lock; connectors, slot, topic
prefixes, heartbeat rows and pipeline names are this module's own (``kt-...``), so
the demo's own slot and offsets are never touched.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from ruamel.yaml import YAML
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))

from bridge_process import REPO, BridgeProcess, wait_until
from pipeline_rows import (
    CREDIT_CHINA_SOURCE,
    CREDIT_CHINA_STAGING,
    NECIPS_SOURCE,
    NECIPS_STAGING,
    Row,
    count_keys,
    credit_china_outcome,
    insert_in_batches,
    insert_rows,
    necips_outcome,
    rows_by_key,
)
from worked_rows import CREDIT_CHINA_STAGED, NECIPS_DECIDED

from bridge.apply.faults import FAULT_VARIABLE
from bridge.capture.connectors import load_connector
from bridge.capture.kafka_topics import connector_topics
from bridge.cli.main import app
from bridge.demo.lock import demo_lock
from bridge.demo.reset import reset_demo
from bridge.devenv.broker import (
    Broker,
    create_topics,
    free_port,
    start_broker,
    stop_broker,
)
from bridge.devenv.connect import (
    ConnectWorker,
    connect_environment,
    start_connect,
    stop_connect,
)
from bridge.devenv.model import DevEnv

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.db,
    pytest.mark.capture,
    pytest.mark.slow,
]

PG_CONNECTOR = "kt-credit-china"
MYSQL_CONNECTOR = "kt-necips"
PG_SLOT = "kt_bridge_credit_china"
TO_NECIPS = "kt-xyzg-to-gsxt"
TO_CREDIT_CHINA = "kt-gsxt-to-xyzg"
CC_TOPIC = "ktcc.xyzg.xyxf_jg"
NECIPS_TOPIC = "ktne.gsxt.E_CR_REPAIR"
PARTITIONS = 3
BRIDGE_TABLES = ("checkpoint", "kafka_offset", "dead_letter", "conflict")

# DOMAIN.md section 5, first worked row, decided on NECIPS, and the Credit China
# staging row it must become (mapping columns and the origin).
WORKED_NECIPS: Row = NECIPS_DECIDED[0]
WORKED_CREDIT_CHINA_STAGED: Row = {**CREDIT_CHINA_STAGED[0], "cb_origin": "GSXT"}
# The second worked row decided on Credit China instead (its own number and
# penalty), and the NECIPS staging row it must become.
WORKED_CREDIT_CHINA: Row = {
    **CREDIT_CHINA_STAGED[1],
    "xf_bh": "XF-XYZG-350000-20250210-0003",
    "cf_wsh_gf": "榕鼓市监处〔2024〕78号",
    "sjly": "XYZG",
}
WORKED_NECIPS_STAGED: Row = {
    **NECIPS_DECIDED[1],
    "REPAIRNO": "XF-XYZG-350000-20250210-0003",
    "PENDECNO": "榕鼓市监处〔2024〕78号",
    "PENDECNO_NORM": "榕鼓市监处〔2024〕78号",
    "SRCSYS": "02",
    "CB_ORIGIN": "XYZG",
}


@dataclass
class Chain:
    """The running scale-out stack of this module."""

    env: DevEnv
    home: Path
    pg: sa.Engine
    mysql: sa.Engine
    connectors: dict[str, Path]
    broker: Broker
    worker: ConnectWorker | None

    def run_config(self, directory: Path, *, max_batch: int = 2048) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        return _write_run_config(self, directory, max_batch)

    def bridge(self, config: Path, **env: str) -> BridgeProcess:
        """A ``creditbridge run --dev`` child; *env* only in its environment."""
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            port = int(json.loads(config.with_suffix(".port").read_text()))
            return BridgeProcess(config, port, config.parent).start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(scope="module")
def chain(dev_env: DevEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """Demo tables reset under the demo lock, Tansu, Connect with both connectors."""
    home = tmp_path_factory.mktemp("kafka-bridge")
    pg = sa.create_engine(dev_env.postgres.url("admin"), poolclass=sa.NullPool)
    mysql = sa.create_engine(dev_env.mysql.url("admin"), poolclass=sa.NullPool)
    with demo_lock(dev_env.home):
        reset_demo(dev_env, dev_env.home)
        _forget_own_state(pg, mysql)
        connectors = _connector_copies(home)
        broker = start_broker(home / "tansu")
        chain = Chain(dev_env, home, pg, mysql, connectors, broker, None)
        try:
            _create_topics(broker, connectors)
            os.environ["CREDITBRIDGE_KAFKA_BOOTSTRAP"] = broker.bootstrap_servers
            chain.worker = _start_worker(dev_env, home, broker)
            _apply(chain.worker, list(connectors.values()))
            yield chain
        finally:
            if chain.worker is not None:
                stop_connect(chain.worker)
            stop_broker(chain.broker)
            _forget_own_state(pg, mysql)
            reset_demo(dev_env, dev_env.home)
            pg.dispose()
            mysql.dispose()


def _connector_copies(home: Path) -> dict[str, Path]:
    """The shipped connector files under this module's names, slot and prefixes."""
    copies = {}
    for shipped, name, prefix, extra in (
        ("credit-china-outcomes", PG_CONNECTOR, "ktcc", {"slot.name": PG_SLOT}),
        (
            "necips-outcomes",
            MYSQL_CONNECTOR,
            "ktne",
            {
                "database.server.id": "184177",
                "schema.history.internal.kafka.topic": f"{MYSQL_CONNECTOR}.history",
            },
        ),
    ):
        data = json.loads((REPO / "connectors" / f"{shipped}.json").read_text("utf-8"))
        config = data["config"]
        config.update(extra)
        config["topic.prefix"] = prefix
        config["heartbeat.interval.ms"] = "2000"
        config["poll.interval.ms"] = "100"
        path = home / f"{name}.json"
        path.write_text(json.dumps({"name": name, "config": config}), "utf-8")
        copies[name] = path
    return copies


def _create_topics(broker: Broker, connectors: dict[str, Path]) -> None:
    for path in connectors.values():
        create_topics(
            broker.bootstrap_servers,
            connector_topics(load_connector(path), PARTITIONS),
        )


def _start_worker(env: DevEnv, home: Path, broker: Broker) -> ConnectWorker:
    urls = {
        "CREDITBRIDGE_PG_CAPTURE_URL": env.postgres.url("capture"),
        "CREDITBRIDGE_MYSQL_CAPTURE_URL": env.mysql.url("capture"),
    }
    return start_connect(
        home / "connect",
        broker.bootstrap_servers,
        env=connect_environment(urls, broker.bootstrap_servers),
    )


def _apply(worker: ConnectWorker, files: list[Path], *extra: str) -> None:
    code, output = _cli(
        "connectors",
        "apply",
        *map(str, files),
        "--connect-url",
        worker.url,
        "--wait",
        "120",
        *extra,
    )
    assert code == 0, output


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=240)
    return result.exit_code, result.output


def _forget_own_state(pg: sa.Engine, mysql: sa.Engine) -> None:
    own = f"'{TO_NECIPS}', '{TO_CREDIT_CHINA}'"
    # The bridge writes heartbeat rows under its pipeline names.
    beats = own
    for engine in (pg, mysql):
        with engine.begin() as c:
            for table in BRIDGE_TABLES:
                c.execute(
                    sa.text(f"DELETE FROM bridge.{table} WHERE pipeline IN ({own})")
                )
            c.execute(
                sa.text(f"DELETE FROM bridge.heartbeat WHERE pipeline IN ({beats})")
            )
    with pg.begin() as c:
        c.execute(
            sa.text(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = :slot AND NOT active"
            ),
            {"slot": PG_SLOT},
        )


def _write_run_config(chain: Chain, directory: Path, max_batch: int) -> Path:
    """``creditbridge.kafka.yaml`` with this module's connectors and pipelines."""
    yaml = YAML(typ="safe")
    config: dict[str, Any] = yaml.load((REPO / "creditbridge.kafka.yaml").read_text())
    config["home"] = str(chain.home / "bridge-home")
    config["kafka"].update(session_timeout_ms=6_000, max_batch=max_batch)
    renamed = {"xyzg-to-gsxt": TO_NECIPS, "gsxt-to-xyzg": TO_CREDIT_CHINA}
    files = {"xyzg-to-gsxt": PG_CONNECTOR, "gsxt-to-xyzg": MYSQL_CONNECTOR}
    for pipeline in config["pipelines"]:
        shipped = pipeline["name"]
        pipeline["name"] = renamed[shipped]
        pipeline["connector"] = str(chain.connectors[files[shipped]])
        pipeline["mappings"] = [str(REPO / m) for m in pipeline["mappings"]]
    port = free_port()
    config["observe"]["http_port"] = port
    path = directory / "run.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    path.with_suffix(".port").write_text(str(port))
    return path


def _staged_counts(chain: Chain, tag: str) -> tuple[int, int]:
    """Staged rows (NECIPS side, Credit China side) of the outcomes tagged *tag*."""
    return (
        count_keys(chain.mysql, NECIPS_STAGING, "REPAIRNO", f"XF-XYZG-{tag}-"),
        count_keys(chain.pg, CREDIT_CHINA_STAGING, "xf_bh", f"XF-GSXT-{tag}-"),
    )


def _distinct_staged(chain: Chain, tag: str) -> tuple[int, int]:
    return (
        len(rows_by_key(chain.mysql, NECIPS_STAGING, "REPAIRNO", f"XF-XYZG-{tag}-")),
        len(rows_by_key(chain.pg, CREDIT_CHINA_STAGING, "xf_bh", f"XF-GSXT-{tag}-")),
    )


def _feed(chain: Chain, tag: str, numbers: range, batch: int = 200) -> None:
    """Outcomes *numbers* decided on both sides, *batch* rows per commit."""
    if batch < 100:
        # Slowly, so that the rows keep coming while a second bridge joins.
        for start in range(numbers.start, numbers.stop, batch):
            _feed(chain, tag, range(start, min(start + batch, numbers.stop)), 100)
            time.sleep(0.3)
        return
    necips = threading.Thread(
        target=insert_in_batches,
        args=(
            chain.mysql,
            NECIPS_SOURCE,
            (necips_outcome(tag, n) for n in numbers),
            batch,
        ),
    )
    necips.start()
    insert_in_batches(
        chain.pg,
        CREDIT_CHINA_SOURCE,
        (credit_china_outcome(tag, n) for n in numbers),
        batch,
    )
    necips.join()


def _stored_offsets(engine: sa.Engine, pipeline: str, topic: str) -> dict[int, int]:
    query = sa.text(
        "SELECT kafka_partition, next_offset FROM bridge.kafka_offset "
        "WHERE pipeline = :p AND topic = :t"
    )
    with engine.connect() as c:
        return {r[0]: r[1] for r in c.execute(query, {"p": pipeline, "t": topic})}


def _topic_ends(broker: Broker, topic: str) -> dict[int, int]:
    """Next offset per partition, by reading the topic (Tansu's ListOffsets
    undercounts)."""
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers)
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    ends = dict.fromkeys(range(PARTITIONS), 0)
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        idle = 0
        while idle < 3:
            polled = consumer.poll(timeout_ms=500)
            idle = 0 if polled else idle + 1
            for messages in polled.values():
                for message in messages:
                    ends[message.partition] = message.offset + 1
    finally:
        consumer.close()
    return ends


def _assert_offsets_at_topic_ends(chain: Chain) -> None:
    assert _stored_offsets(chain.mysql, TO_NECIPS, CC_TOPIC) == _topic_ends(
        chain.broker, CC_TOPIC
    )
    assert _stored_offsets(chain.pg, TO_CREDIT_CHINA, NECIPS_TOPIC) == _topic_ends(
        chain.broker, NECIPS_TOPIC
    )


def _mapped(row: Row, expected: Row) -> Row:
    return {column: row[column] for column in expected}


def _assignments(process: BridgeProcess, topic: str) -> list[list[int]]:
    """The partitions of *topic* in each assignment *process* logged, in order."""
    lines = re.findall(r"partitions assigned: ([^(\n]*)", process.output())
    pattern = re.escape(topic) + r"\[(\d+)\]"
    return [
        sorted(int(p) for p in re.findall(pattern, line))
        for line in lines
        if f"{topic}[" in line
    ]


def _stop(process: BridgeProcess) -> None:
    process.terminate()
    assert process.wait_exit(30) == 0, process.output()


def test_worked_rows_cross_both_ways_once_each(chain: Chain, tmp_path: Path) -> None:
    process = chain.bridge(chain.run_config(tmp_path))
    try:
        process.wait_ready(120)
        insert_rows(chain.mysql, NECIPS_SOURCE, [WORKED_NECIPS])
        insert_rows(chain.pg, CREDIT_CHINA_SOURCE, [WORKED_CREDIT_CHINA])
        _feed(chain, "KT1", range(300))
        wait_until(
            lambda: _staged_counts(chain, "KT1") == (300, 300),
            "300 staged outcomes each way",
            bridge=process,
        )
        wait_until(
            lambda: (
                count_keys(chain.mysql, NECIPS_STAGING, "REPAIRNO", "XF-XYZG-35")
                and count_keys(chain.pg, CREDIT_CHINA_STAGING, "xf_bh", "XF-GSXT-31")
            ),
            "the worked rows staged",
            bridge=process,
        )
    finally:
        _stop(process)

    staged_necips = rows_by_key(chain.mysql, NECIPS_STAGING, "REPAIRNO", "XF-XYZG-35")
    staged_cc = rows_by_key(chain.pg, CREDIT_CHINA_STAGING, "xf_bh", "XF-GSXT-31")
    assert [_mapped(r, WORKED_NECIPS_STAGED) for r in staged_necips.values()] == [
        WORKED_NECIPS_STAGED
    ]
    assert [_mapped(r, WORKED_CREDIT_CHINA_STAGED) for r in staged_cc.values()] == [
        WORKED_CREDIT_CHINA_STAGED
    ]
    assert _distinct_staged(chain, "KT1") == (300, 300)
    _assert_offsets_at_topic_ends(chain)
    assert _assignments(process, CC_TOPIC) == [[0, 1, 2]]


def test_bridge_killed_mid_batch_loses_and_repeats_nothing(
    chain: Chain, tmp_path: Path
) -> None:
    config = chain.run_config(tmp_path)
    before = _staged_counts(chain, "KT2")
    _feed(chain, "KT2", range(600))

    # The first batch carrying rows dies after writing them, before its commit.
    doomed = chain.bridge(config, **{FAULT_VARIABLE: "after_rows"})
    code = doomed.wait_exit(120)
    after_kill = _staged_counts(chain, "KT2")
    process = chain.bridge(config)
    try:
        wait_until(
            lambda: _staged_counts(chain, "KT2") == (600, 600),
            "600 staged outcomes each way after the restart",
            bridge=process,
        )
    finally:
        _stop(process)

    assert (code, before) == (-9, (0, 0))
    # One pipeline's thread may have committed a batch before the other died.
    assert min(after_kill) < 600
    assert _distinct_staged(chain, "KT2") == (600, 600)
    _assert_offsets_at_topic_ends(chain)


class Feeder(threading.Thread):
    """Commits 50 outcomes each way every 0.2 s until stopped; ``fed`` counts them."""

    def __init__(self, chain: Chain, tag: str) -> None:
        super().__init__(name="kafka-test-feeder")
        self.chain = chain
        self.tag = tag
        self.fed = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            _feed(self.chain, self.tag, range(self.fed, self.fed + 50))
            self.fed += 50
            time.sleep(0.2)


def test_second_bridge_joining_loses_and_repeats_nothing(
    chain: Chain, tmp_path: Path
) -> None:
    first = chain.bridge(chain.run_config(tmp_path / "first", max_batch=50))
    second = None
    feeder = Feeder(chain, "KT3")
    try:
        first.wait_ready(120)
        feeder.start()
        wait_until(
            lambda: min(_staged_counts(chain, "KT3")) >= 100,
            "the first bridge applying",
            bridge=first,
        )
        second = chain.bridge(chain.run_config(tmp_path / "second", max_batch=50))
        wait_until(
            lambda: bool(_assignments(second, CC_TOPIC)),
            "the second bridge taking partitions",
            bridge=second,
        )
        # Some more rows while both share the partitions.
        fed = feeder.fed
        wait_until(lambda: feeder.fed >= fed + 300, "300 more rows fed")
        feeder.stopping.set()
        feeder.join()
        wait_until(
            lambda: _staged_counts(chain, "KT3") == (feeder.fed, feeder.fed),
            "every fed outcome staged each way with two bridges",
            timeout=300,
            bridge=first,
        )
    finally:
        feeder.stopping.set()
        if feeder.is_alive():
            feeder.join()
        _stop(first)
        if second is not None:
            _stop(second)

    assert second is not None
    assert _distinct_staged(chain, "KT3") == (feeder.fed, feeder.fed)
    _assert_offsets_at_topic_ends(chain)
    # The joining bridge took over some of the partitions while the first ran.
    assert 0 < len(_assignments(second, CC_TOPIC)[0]) < PARTITIONS


def test_broker_restart_then_documented_recovery(chain: Chain, tmp_path: Path) -> None:
    """Pins the recovery in docs/architecture.md: without the offset reset the
    bridge would skip every record of the re-created topics."""
    config = chain.run_config(tmp_path)
    assert chain.worker is not None
    stop_connect(chain.worker)
    stop_broker(chain.broker)
    chain.broker = start_broker(chain.home / "tansu", port=chain.broker.port)
    _create_topics(chain.broker, chain.connectors)
    for pipeline in (TO_NECIPS, TO_CREDIT_CHINA):
        code, output = _cli(
            "connectors",
            "reset-offsets",
            "--pipeline",
            pipeline,
            "-c",
            str(config),
            "--dev",
        )
        assert code == 0, output
        assert f"pipeline {pipeline}: forgot the stored offsets of " in output
    chain.worker = _start_worker(chain.env, chain.home, chain.broker)
    mysql_file = chain.connectors[MYSQL_CONNECTOR]
    _apply(chain.worker, [chain.connectors[PG_CONNECTOR], mysql_file], "--recovery")

    process = chain.bridge(config)
    try:
        # Ready means heartbeats came through both connectors again: the MySQL
        # schema history is rebuilt, so the connector may go back to its own file.
        process.wait_ready(180)
        _apply(chain.worker, [mysql_file])
        _feed(chain, "KT4", range(200))
        wait_until(
            lambda: _staged_counts(chain, "KT4") == (200, 200),
            "200 staged outcomes each way after the broker restart",
            bridge=process,
        )
    finally:
        _stop(process)

    assert _distinct_staged(chain, "KT4") == (200, 200)
    assert _staged_counts(chain, "KT1") == (300, 300)
    _assert_offsets_at_topic_ends(chain)
