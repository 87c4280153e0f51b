"""Logging setup: one root handler, structured fields and a redaction filter.

Every module logs through ``logging.getLogger(__name__)`` with lazy ``%s`` arguments and
passes the structured fields :data:`FIELDS` through ``extra=``::

    logger.warning("row sent to the dead letters: %s", reason,
                   extra={"pipeline": "pg_to_mysql", "table": "xyxf_jg",
                          "key": {"xf_bh": "XF001"}, "position": event.position})

:func:`configure_logging` installs one handler on the root logger. Its
:class:`RedactingFilter` rewrites each record before any formatter sees it, so no
password (configured secret values, ``password=...`` pairs, the password in a URL's
userinfo) and no full PRC ID number reaches the output.
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO

FIELDS: Final = ("pipeline", "table", "key", "position")
"""The structured fields a record may carry through ``extra=``."""

MASK: Final = "***"

HOME_ENV: Final = "CREDITBRIDGE_HOME"

# 6-digit division code, birth date YYYYMMDD, 3-digit sequence, check digit or X.
# The check digit is deliberately not verified: a mistyped ID number is still personal.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])"
    r"([1-9]\d{5})"
    r"((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"(\d{3}[0-9Xx])"
    r"(?![0-9A-Za-z])"
)

# password=..., "password": "...", database.password: ..., PGPASSWORD=...
_SECRET_PAIR = re.compile(
    r"""(?ix)
    ( [\w.-]*(?:password|passwd|pwd|secret)[\w.-]* ["']? \s* [=:] \s* )
    ( "[^"]*" | '[^']*' | [^\s"',;&)}\]]+ )
    """
)

# scheme://user:password@host keeps the user and hides the password.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")

_HANDLER_NAME: Final = "creditbridge"


def mask_id_number(text: str) -> str:
    """Mask every 18-character PRC ID number to ``520102********3128`` form."""
    return _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:], text)


class Redactor:
    """Removes secrets and full ID numbers from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        """Hide *secret* wherever it appears; empty values are ignored."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)
            # Longest first, so a secret containing another is hidden whole.
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)

        text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + m.group(3), text)
        text = _SECRET_PAIR.sub(_mask_pair_value, text)
        return mask_id_number(text)

    def value(self, value: Any) -> Any:
        """Redact a structured field value, keeping mappings as mappings."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {str(k): self.value(v) for k, v in value.items()}
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(str(value))


def _mask_pair_value(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return match.group(1) + quote + MASK + quote


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, arguments, fields and traceback text in place.

    Attached to handlers (not loggers), because a logger's filters do not see records
    propagated from child loggers.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None

        for name in FIELDS:
            if name in record.__dict__:
                setattr(record, name, self.redactor.value(record.__dict__[name]))

        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [pipeline=... table=... key=... position=...]``."""

    def __init__(
        self, fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    ) -> None:
        super().__init__(fmt)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        line = super().formatMessage(record)
        pairs = [
            f"{name}={_field_text(record.__dict__[name])}"
            for name in FIELDS
            if record.__dict__.get(name) is not None
        ]
        return f"{line} [{' '.join(pairs)}]" if pairs else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if record.__dict__.get(name) is not None:
                entry[name] = _json_value(record.__dict__[name])

        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return jsonlib.dumps(entry, ensure_ascii=False, default=str)


def _field_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def secrets_from_environment(
    environ: Mapping[str, str], secrets_file: Path | None = None
) -> list[str]:
    """Secret values to hide: ``*PASSWORD*``/``*SECRET*`` variables and URL passwords.

    *secrets_file* (``KEY=VALUE`` lines, as ``creditbridge dev env`` keeps them) adds
    its password and secret values when it exists.
    """
    pairs = dict(environ)
    if secrets_file is not None and secrets_file.is_file():
        pairs.update(_read_env_file(secrets_file))

    found = []
    for name, value in pairs.items():
        upper = name.upper()
        if "PASSWORD" in upper or "SECRET" in upper:
            found.append(value)
        elif upper.startswith("CREDITBRIDGE_") and upper.endswith("_URL"):
            match = _URL_USERINFO.search(value)
            if match:
                found.append(match.group(2))
    return [value for value in found if value]


def _read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            pairs[name.removeprefix("export ").strip()] = value.strip().strip("'\"")
    return pairs


def configure_logging(
    level: int | str = logging.INFO,
    json: bool = False,
    *,
    secrets: Iterable[str] | None = None,
    secrets_file: Path | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install creditbridge's root handler and return it.

    *secrets* are the values to hide; ``None`` takes them from the environment and
    from *secrets_file* (default: ``secrets.env`` in ``$CREDITBRIDGE_HOME``, else in
    ``.creditbridge``). Calling again replaces the handler installed before; handlers
    installed by others are left alone.
    """
    if secrets is None:
        home = Path(os.environ.get(HOME_ENV) or ".creditbridge")
        secrets_file = secrets_file or home / "secrets.env"
        secrets = secrets_from_environment(os.environ, secrets_file)

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.setFormatter(JsonFormatter() if json else TextFormatter())

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    # kafka-python logs every connection and group step at INFO; its warnings and
    # errors still come through, and --log-level DEBUG shows the rest.
    kafka_level = root.level if root.level <= logging.DEBUG else logging.WARNING
    logging.getLogger("kafka").setLevel(max(kafka_level, root.level))
    return handler


@contextmanager
def log_stream(stream: TextIO) -> Iterator[None]:
    """Write creditbridge's log lines to *stream* meanwhile, then back as before.

    A live display on the terminal passes its stderr proxy here, so that log lines
    are printed above the display instead of being overdrawn by it.
    """
    handlers = [
        h
        for h in logging.getLogger().handlers
        if h.get_name() == _HANDLER_NAME and isinstance(h, logging.StreamHandler)
    ]
    previous = [h.setStream(stream) for h in handlers]
    try:
        yield
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            if old is not None:
                handler.setStream(old)
