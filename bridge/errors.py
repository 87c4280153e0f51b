"""The one error tree of creditbridge.

Every error raised on purpose derives from :class:`BridgeError`. Two markers tell the
runner what to do with it:

* :class:`RetryableError`: the same work may succeed later (lost connection,
  deadlock, lock wait timeout, a server restarting). The runner retries with
  backoff; such an error never reaches the dead-letter table.
* :class:`PermanentError`: retrying cannot help. For a single row this means the
  dead-letter table; for a configuration or start-up problem it means stopping with a
  clear message.

Messages name the place at fault (file, line, field path, source position) and end with
what happens next, so an operator never has to guess.
"""

from __future__ import annotations

import signal


class BridgeError(Exception):
    """Base class of every error creditbridge raises on purpose."""


def database_message(exc: BaseException) -> str:
    """The driver's own text of a SQLAlchemy error, without the statement dump."""
    return str(getattr(exc, "orig", None) or exc)


class RetryableError(BridgeError):
    """The operation may succeed if tried again later."""


class PermanentError(BridgeError):
    """Retrying cannot help: the row is dead-lettered or the process stops."""


class ConfigError(PermanentError):
    """A configuration file, connector file or setting is wrong; nothing was started."""


class CaptureError(PermanentError):
    """A Debezium engine or Kafka consumer could not start or stopped for good."""


class DecodeError(PermanentError):
    """A Debezium record cannot be decoded exactly; the row goes to the dead letters."""


class MappingError(PermanentError):
    """A row cannot be mapped (bad USCC, unmapped code, incomplete before-image)."""


class ApplyError(PermanentError):
    """The target database refused a row for a reason retrying cannot fix."""


class DevEnvError(PermanentError):
    """The local development servers could not be set up, started or stopped."""


class StoppedWhileStarting(BaseException):
    """SIGTERM or SIGINT came before the work began: the command ends where it is.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` on the
    way takes it for a failure.
    """

    def __init__(self, signum: int) -> None:
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signal_name} while starting")
