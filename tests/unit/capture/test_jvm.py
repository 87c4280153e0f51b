"""JVM options: validated once, every path absolute, nothing relative to the cwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.capture.jvm import JvmOptions
from bridge.errors import ConfigError


def test_arguments_keep_signals_for_python_and_logs_off_the_cwd() -> None:
    options = JvmOptions(heap="256m", log_level="info", crash_dir=Path("/var/cb/logs"))

    assert options.arguments(Path("/opt/log4j2.xml")) == [
        "-Xms64m",
        "-Xmx256m",
        "-Xrs",
        "-Dlog4j2.configurationFile=/opt/log4j2.xml",
        "-Dcreditbridge.jvm.log.level=INFO",
        "-Dcreditbridge.jvm.quiet.level=INFO",
        "-Dlog4j2.disable.jmx=true",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:ErrorFile=/var/cb/logs/hs_err_pid%p.log",
    ]


def test_environment_overrides_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITBRIDGE_JVM_HEAP", "1g")
    monkeypatch.setenv("CREDITBRIDGE_JVM_LOG_LEVEL", "DEBUG")

    assert JvmOptions.from_environment() == JvmOptions(heap="1g", log_level="DEBUG")


@pytest.mark.parametrize(
    ("heap", "level", "message"),
    [
        (
            "512",
            "WARN",
            "JVM heap '512' is not a size like 256m or 1g; nothing was started",
        ),
        (
            "512m",
            "LOUD",
            "Debezium log level 'LOUD' is not one of OFF, ERROR, WARN, "
            "INFO, DEBUG, TRACE; nothing was started",
        ),
    ],
)
def test_bad_options_are_refused(heap: str, level: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        JvmOptions(heap=heap, log_level=level)

    assert str(raised.value) == message
