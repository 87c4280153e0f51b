"""Python implementations of Debezium's engine callbacks.

JPype can only define these once the JVM runs, so this module is imported by
:mod:`bridge.capture.embedded` after :func:`bridge.capture.jvm.start_jvm`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jpype

JProperties = jpype.JClass("java.util.Properties")
JDebeziumEngine = jpype.JClass("io.debezium.engine.DebeziumEngine")
# Keys and values as UTF-8 JSON bytes: one copy into Python, no Java string.
JJsonBytesFormat = jpype.JClass("io.debezium.engine.format.JsonByteArray")
JThread = jpype.JClass("java.lang.Thread")


def causes(error: Any) -> list[str]:
    """The messages of *error* and its causes, outermost first, repeats dropped."""
    messages: list[str] = []
    seen = 0
    while error is not None and seen < 20:
        text = str(error.getMessage() or error.getClass().getName())
        if text not in messages:
            messages.append(text)
        error = error.getCause()
        seen += 1
    return messages


@jpype.JImplements("io.debezium.engine.DebeziumEngine$CompletionCallback")
class CompletionCallback:
    """Tells Python how an engine ended; a failed start is only visible here."""

    def __init__(self, on_complete: Callable[[bool, str, list[str]], None]) -> None:
        self._on_complete = on_complete

    @jpype.JOverride  # type: ignore[untyped-decorator]
    def handle(self, success: Any, message: Any, error: Any) -> None:
        self._on_complete(
            bool(success), "" if message is None else str(message), causes(error)
        )


@jpype.JImplements("io.debezium.engine.DebeziumEngine$ConnectorCallback")
class ConnectorCallback:
    """Tells Python when the connector task has started polling its source."""

    def __init__(self, on_polling_started: Callable[[], None]) -> None:
        self._on_polling_started = on_polling_started

    @jpype.JOverride  # type: ignore[untyped-decorator]
    def pollingStarted(self) -> None:  # noqa: N802 - the Java method name
        self._on_polling_started()


@jpype.JImplements("io.debezium.engine.DebeziumEngine$ChangeConsumer")
class ChangeConsumer:
    """Hands each batch and its committer to Python, which acknowledges records.

    An exception stops the engine without acknowledging the batch; the handler
    keeps it, to be raised in the caller's thread.
    """

    def __init__(self, on_batch: Callable[[Any, Any], None]) -> None:
        self._on_batch = on_batch

    @jpype.JOverride  # type: ignore[untyped-decorator]
    def handleBatch(self, records: Any, committer: Any) -> None:  # noqa: N802
        try:
            self._on_batch(records, committer)
        except Exception:
            # Interrupting the engine's thread makes it stop and report failure.
            JThread.currentThread().interrupt()

    @jpype.JOverride  # type: ignore[untyped-decorator]
    def supportsTombstoneEvents(self) -> bool:  # noqa: N802
        return True


def quiet_logger(name: str) -> Callable[[], None]:
    """Turn the log4j logger *name* off; returns what gives it its level back."""
    configurator = jpype.JClass("org.apache.logging.log4j.core.config.Configurator")
    level = jpype.JClass("org.apache.logging.log4j.Level")
    # The context Configurator changes. LogManager.getLogger called from Python
    # would make a second one (it goes by the caller's class loader).
    context = jpype.JClass("org.apache.logging.log4j.core.LoggerContext")
    configured = context.getContext(False).getConfiguration().getLoggerConfig(name)
    restore_to = configured.getLevel()
    configurator.setLevel(name, level.OFF)
    return lambda: configurator.setLevel(name, restore_to)
