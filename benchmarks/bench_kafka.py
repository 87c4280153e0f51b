"""Scale-out path vs embedded path: rows/s of the whole bridge on the same rows.

Both runs are the real bridge (``prepare`` + ``Bridge.run``: decode, map, apply into
the demo staging table) on one demo pipeline, in this process, on freshly reset demo
tables (under the demo lock):

* embedded: ``creditbridge.yaml``, Debezium embedded in this process;
* kafka: ``creditbridge.kafka.yaml``, Debezium in a Kafka Connect standalone worker
  (-Xmx384m) writing to Tansu (3 partitions per data topic), read by the bridge's
  consumer with offsets committed in the target.

Each run waits until a heartbeat has gone all the way through (so capture streams end
to end), inserts N outcome rows (1,000 per transaction) and times first insert to the
N-th row applied. Prints rows/s, the ratio kafka / embedded and the load average.

    .venv/bin/python benchmarks/bench_kafka.py [--rows 20000] [--mysql]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration" / "pipeline"))

from pipeline_rows import (  # noqa: E402
    CREDIT_CHINA_SOURCE,
    NECIPS_SOURCE,
    credit_china_outcome,
    insert_rows,
    necips_outcome,
)

from bridge.capture.connectors import load_connector  # noqa: E402
from bridge.capture.kafka_topics import connector_topics  # noqa: E402
from bridge.devenv.broker import (  # noqa: E402
    Broker,
    create_topics,
    free_port,
    start_broker,
    stop_broker,
)
from bridge.devenv.connect import (  # noqa: E402
    ConnectWorker,
    connect_environment,
    start_connect,
    stop_connect,
)
from bridge.devenv.model import DevEnv  # noqa: E402

PARTITIONS = 3
INSERT_BATCH = 1000
SOURCES = {
    "xyzg-to-gsxt": ("postgres", CREDIT_CHINA_SOURCE),
    "gsxt-to-xyzg": ("mysql", NECIPS_SOURCE),
}
CONNECTORS = {
    "xyzg-to-gsxt": "credit-china-outcomes",
    "gsxt-to-xyzg": "necips-outcomes",
}


def run_config(directory: Path, home: Path, shipped: str, pipeline: str) -> Path:
    """*shipped* (a run config in the repository) with one pipeline, absolute paths."""
    yaml = YAML(typ="safe")
    config: dict[str, Any] = yaml.load((REPO / shipped).read_text("utf-8"))
    config["home"] = str(home)
    kept = [p for p in config["pipelines"] if p["name"] == pipeline]
    for item in kept:
        item["connector"] = str(REPO / item["connector"])
        item["mappings"] = [str(REPO / m) for m in item["mappings"]]
    config["pipelines"] = kept
    config["observe"]["http_port"] = free_port()
    path = directory / f"{Path(shipped).stem}.{pipeline}.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    return path


def insert_all(engine: sa.Engine, pipeline: str, rows: int) -> None:
    side, table = SOURCES[pipeline]
    make = credit_china_outcome if side == "postgres" else necips_outcome
    for start in range(0, rows, INSERT_BATCH):
        numbers = range(start, min(start + INSERT_BATCH, rows))
        insert_rows(engine, table, [make("BENCH", n) for n in numbers])


def measure(env: DevEnv, config: Path, pipeline: str, rows: int) -> dict[str, Any]:
    """Run the bridge of *config*; time the first insert to the *rows*-th applied."""
    from bridge.pipeline.config import load_run_config
    from bridge.pipeline.runner import Bridge, prepare

    side, _ = SOURCES[pipeline]
    server = env.postgres if side == "postgres" else env.mysql
    source = sa.create_engine(server.url("admin"), poolclass=sa.NullPool)
    result: dict[str, Any] = {}

    def feed(bridge: Bridge) -> None:
        try:
            while bridge.lag.lag(pipeline) is None:  # no heartbeat through yet
                time.sleep(0.1)
            totals = bridge.pipelines[0].direction.totals
            result["load_before"] = os.getloadavg()[0]
            started = time.monotonic()
            insert_all(source, pipeline, rows)
            while totals.applied < rows:
                time.sleep(0.01)
            result["seconds"] = time.monotonic() - started
            result["load_after"] = os.getloadavg()[0]
        finally:
            bridge.request_stop()

    bridge = prepare(load_run_config(config))
    try:
        bridge.run(on_ready=feed)
    finally:
        source.dispose()
    if "seconds" not in result:
        raise RuntimeError(f"{config.name}: the bridge stopped before {rows} rows")
    result["rate"] = rows / result["seconds"]
    return result


@contextmanager
def kafka_stack(env: DevEnv, home: Path, pipeline: str) -> Iterator[None]:
    """Tansu with the connector's topics, and Connect running the shipped connector."""
    from bridge.capture.connect import ConnectClient, apply_files, wait_until_running

    path = REPO / "connectors" / f"{CONNECTORS[pipeline]}.json"
    broker: Broker = start_broker(home / "tansu")
    worker: ConnectWorker | None = None
    os.environ["CREDITBRIDGE_KAFKA_BOOTSTRAP"] = broker.bootstrap_servers
    try:
        create_topics(
            broker.bootstrap_servers,
            connector_topics(load_connector(path), PARTITIONS),
        )
        urls = {
            "CREDITBRIDGE_PG_CAPTURE_URL": env.postgres.url("capture"),
            "CREDITBRIDGE_MYSQL_CAPTURE_URL": env.mysql.url("capture"),
        }
        worker = start_connect(
            home / "connect",
            broker.bootstrap_servers,
            env=connect_environment(urls, broker.bootstrap_servers),
        )
        client = ConnectClient(worker.url)
        apply_files(client, [path])
        wait_until_running(client, [CONNECTORS[pipeline]], timeout_s=120)
        yield
    finally:
        if worker is not None:
            stop_connect(worker)
        stop_broker(broker)


def run_pipeline(env: DevEnv, tmp: Path, pipeline: str, rows: int) -> dict[str, Any]:
    from bridge.demo.reset import reset_demo

    results: dict[str, Any] = {"pipeline": pipeline}
    for transport, shipped in (
        ("embedded", "creditbridge.yaml"),
        ("kafka", "creditbridge.kafka.yaml"),
    ):
        home = tmp / transport / pipeline
        home.mkdir(parents=True)
        config = run_config(tmp, home, shipped, pipeline)
        reset_demo(env, env.home)
        try:
            if transport == "kafka":
                with kafka_stack(env, home, pipeline):
                    results[transport] = measure(env, config, pipeline, rows)
            else:
                results[transport] = measure(env, config, pipeline, rows)
        finally:
            reset_demo(env, env.home)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--mysql", action="store_true", help="also NECIPS -> CC")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # kafka-python warns whenever a poll outlasts 0.1 s, which a batch apply does.
    logging.getLogger("kafka").setLevel(logging.ERROR)

    from bridge.cli.run import use_dev_environment
    from bridge.demo.lock import demo_lock
    from bridge.devenv.api import ensure_up

    env = ensure_up()
    use_dev_environment()
    pipelines = ["xyzg-to-gsxt", *(["gsxt-to-xyzg"] if args.mysql else [])]
    with (
        demo_lock(env.home),
        tempfile.TemporaryDirectory(prefix="cb-bench-kafka-") as tmp,
    ):
        results = [run_pipeline(env, Path(tmp), p, args.rows) for p in pipelines]

    print(
        f"bench_kafka {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.rows} rows, "
        f"whole bridge (decode + map + apply), {os.cpu_count()} cores"
    )
    print(
        f"{'pipeline':<14}{'embedded rows/s':>17}{'kafka rows/s':>14}"
        f"{'kafka/embedded':>16}{'load 1m (emb, kafka)':>24}"
    )
    for r in results:
        embedded, kafka = r["embedded"], r["kafka"]
        load = f"{embedded['load_before']:.1f}, {kafka['load_before']:.1f}"
        print(
            f"{r['pipeline']:<14}{embedded['rate']:>17,.0f}{kafka['rate']:>14,.0f}"
            f"{kafka['rate'] / embedded['rate']:>16.2f}{load:>24}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
