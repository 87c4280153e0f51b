"""Process plumbing for the local servers: free ports, pids, unprivileged users.

Servers are always stopped by the pid this package recorded, never by name, and a pid
is only trusted while ``/proc/<pid>/cmdline`` still names the program we started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from bridge.errors import DevEnvError

log = logging.getLogger(__name__)

SERVICE_USER = "creditbridge"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:*port*."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_service_user() -> pwd.struct_passwd:
    """The unprivileged system user that owns the PostgreSQL data directory.

    initdb refuses to run as root, so when we are root the server runs as this user.
    """
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass

    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    if not Path(useradd).exists():
        raise DevEnvError(
            f"cannot create the system user {SERVICE_USER!r}: useradd not found; "
            "create the user by hand or run as an unprivileged user"
        )
    run(
        [useradd, "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVICE_USER],
        what="useradd",
    )
    log.info("created system user %s", SERVICE_USER)
    return pwd.getpwnam(SERVICE_USER)


def as_service_user(command: Sequence[str]) -> list[str]:
    """*command* run as the service user when we are root, else as ourselves."""
    if not is_root():
        return list(command)
    return ["runuser", "-u", SERVICE_USER, "--", *command]


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """Give *path* and everything below it to uid:gid."""
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def run(
    command: Sequence[str],
    *,
    what: str,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> str:
    """Run *command* to completion; raise DevEnvError naming *what* on failure."""
    log.debug("running %s", " ".join(command))
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, env=env, check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise DevEnvError(f"{what} failed: {command[0]} not found") from exc

    if log_file is not None:
        with log_file.open("a", encoding="utf-8") as out:
            out.write(done.stdout)
            out.write(done.stderr)
    if done.returncode != 0:
        detail = tail_text(done.stderr or done.stdout, 12)
        raise DevEnvError(f"{what} failed with exit code {done.returncode}: {detail}")
    return done.stdout


def tail_text(text: str, lines: int) -> str:
    """The last *lines* non-empty lines of *text*, joined on ' | '."""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) or "(no output)"


def tail_file(path: Path, lines: int = 12) -> str:
    if not path.exists():
        return f"(no log at {path})"
    return tail_text(path.read_text(encoding="utf-8", errors="replace"), lines)


def pid_alive(pid: int, program: str) -> bool:
    """True when *pid* is a live (not zombie) process whose command names *program*."""
    # Reap it first if it is our own child, so an exited server is not a zombie.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)

    proc = Path("/proc") / str(pid)
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    if state in ("Z", "X"):
        return False
    # An exiting process has released its memory and shows an empty command line: it
    # is still there, so it counts as alive until it is gone or a zombie.
    return cmdline == "" or program in cmdline


def read_pid(pid_file: Path) -> int | None:
    """The pid on the first line of *pid_file*, or None when absent or unreadable."""
    try:
        first = pid_file.read_text().splitlines()[0].strip()
        return int(first)
    except (FileNotFoundError, IndexError, ValueError):
        return None


def terminate(pid: int, program: str, timeout: float = 60.0) -> None:
    """SIGTERM *pid* and wait until it is gone; SIGKILL after *timeout* seconds."""
    if not pid_alive(pid, program):
        return
    os.kill(pid, signal.SIGTERM)
    if wait_gone(pid, program, timeout):
        return

    log.warning("%s (pid %s) ignored SIGTERM for %ss; sending SIGKILL", program, pid,
                timeout)
    os.kill(pid, signal.SIGKILL)
    if not wait_gone(pid, program, 10.0):
        raise DevEnvError(f"{program} (pid {pid}) does not exit; stop it by hand")


def wait_gone(pid: int, program: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid, program):
            return True
        time.sleep(0.1)
    return not pid_alive(pid, program)
