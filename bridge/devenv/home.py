"""Where the local dev environment keeps its state, and its generated secrets.

Layout under the home directory (default ``<repo>/.creditbridge``, git-ignored)::

    secrets.env        passwords, mode 0600
    devenv.lock        serialises concurrent ``ensure_up`` calls
    postgres/          data directory, socket, log, recorded port
    mysql/             chroot (or data directory), log, recorded port and pid
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

HOME_ENV = "CREDITBRIDGE_HOME"
SECRET_NAMES = (
    "PG_ADMIN_PASSWORD",
    "PG_CAPTURE_PASSWORD",
    "PG_WRITER_PASSWORD",
    "MYSQL_ADMIN_PASSWORD",
    "MYSQL_CAPTURE_PASSWORD",
    "MYSQL_WRITER_PASSWORD",
)


def repo_root() -> Path:
    """The directory holding pyproject.toml above this package, else the cwd."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def resolve_home(home: Path | None = None) -> Path:
    """*home*, else $CREDITBRIDGE_HOME, else ``<repo root>/.creditbridge``."""
    if home is not None:
        return Path(home).resolve()
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).resolve()
    return repo_root() / ".creditbridge"


def prepare_home(home: Path) -> None:
    """Create *home*, traversable by the service user but not listable by others."""
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)


@contextlib.contextmanager
def locked(home: Path) -> Iterator[None]:
    """Hold an exclusive lock on *home* so two processes never set it up at once."""
    prepare_home(home)
    with (home / "devenv.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_secrets(home: Path) -> dict[str, str]:
    """The passwords of this instance, generating and saving missing ones."""
    path = home / "secrets.env"
    values = read_env_file(path)
    missing = [name for name in SECRET_NAMES if name not in values]
    if not missing:
        return values

    for name in missing:
        values[name] = secrets.token_urlsafe(18)
    write_private(path, "".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of *path*; blank lines and ``#`` comments are skipped."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def write_private(path: Path, text: str) -> None:
    """Write *text* to *path* readable by the owner only, replacing it atomically."""
    partial = path.with_suffix(path.suffix + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def read_port(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
