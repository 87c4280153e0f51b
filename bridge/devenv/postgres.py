"""The local PostgreSQL 15 server of the Credit China demo side.

Runs the machine's own binaries from a data directory under the dev home, listening on
127.0.0.1 only, with logical decoding on for Debezium's pgoutput plugin.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bridge.devenv import procs
from bridge.devenv.home import read_port
from bridge.errors import DevEnvError

log = logging.getLogger(__name__)

ADMIN_USER = "cb_admin"
DATABASE = "creditbridge"
BIN_DIRS = ("/usr/lib/postgresql/15/bin",)

SETTINGS = """
# creditbridge dev instance
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
timezone = 'UTC'
log_timezone = 'UTC'
"""


def find_binary(name: str) -> str:
    """Path of the PostgreSQL program *name*, from PATH or the Debian location."""
    found = shutil.which(name)
    if found:
        return found
    for directory in BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    raise DevEnvError(
        f"PostgreSQL program {name!r} not found on PATH or in {BIN_DIRS[0]}: "
        "install postgresql-15 (apt-get install postgresql-15) or set "
        "CREDITBRIDGE_PG_URL to an existing server"
    )


@dataclass(frozen=True)
class PostgresServer:
    """One PostgreSQL data directory under ``<home>/postgres``."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def port(self) -> int | None:
        return read_port(self.root / "port")

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def pid(self) -> int | None:
        """The postmaster pid, when it is running."""
        pid = procs.read_pid(self.data_dir / "postmaster.pid")
        if pid is not None and procs.pid_alive(pid, "postgres"):
            return pid
        return None

    def initialise(self, admin_password: str) -> None:
        """initdb with scram authentication and the settings Debezium needs."""
        if self.root.exists() and any(self.root.iterdir()):
            shutil.rmtree(self.root)
        self.socket_dir.mkdir(parents=True)
        owner = self._give_to_service_user()

        password_file = self.root / "initdb.pw"
        password_file.write_text(admin_password + "\n")
        password_file.chmod(0o600)
        if owner is not None:
            os.chown(password_file, owner[0], owner[1])
        try:
            self._initdb(password_file)
        finally:
            password_file.unlink(missing_ok=True)

        port = procs.free_port()
        settings = SETTINGS.format(port=port, socket_dir=self.socket_dir)
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)
        (self.root / "port").write_text(f"{port}\n")
        log.info("initialised PostgreSQL data directory %s (port %s)", self.data_dir,
                 port)

    def _give_to_service_user(self) -> tuple[int, int] | None:
        if not procs.is_root():
            return None
        user = procs.ensure_service_user()
        procs.chown_tree(self.root, user.pw_uid, user.pw_gid)
        return user.pw_uid, user.pw_gid

    def _initdb(self, password_file: Path) -> None:
        command = [
            find_binary("initdb"), "-D", str(self.data_dir), "-U", ADMIN_USER,
            f"--pwfile={password_file}", "--auth=scram-sha-256", "-E", "UTF8",
            "--locale=C",
        ]
        procs.run(procs.as_service_user(command), what="initdb",
                  log_file=self.root / "initdb.log")

    def start(self) -> int:
        """Start the postmaster and wait until it accepts connections."""
        port = self.port
        if port is not None and procs.port_in_use(port):
            raise DevEnvError(
                f"PostgreSQL port {port} (recorded in {self.root / 'port'}) is taken "
                "by another process; stop it or delete the file to pick a new port"
            )
        command = [
            find_binary("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
            "-w", "-t", "90", "start",
        ]
        try:
            procs.run(procs.as_service_user(command), what="pg_ctl start")
        except DevEnvError as exc:
            raise DevEnvError(f"{exc}; server log: {procs.tail_file(self.log_file)}") \
                from exc

        pid = self.pid()
        if pid is None:
            raise DevEnvError(
                f"PostgreSQL did not stay up; log {self.log_file}: "
                f"{procs.tail_file(self.log_file)}"
            )
        log.info("PostgreSQL running, pid %s, port %s", pid, port)
        return pid

    def stop(self) -> None:
        """Fast shutdown by the postmaster pid; returns when the process is gone."""
        pid = self.pid()
        if pid is None:
            return
        command = [find_binary("pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                   "-w", "-t", "60", "stop"]
        try:
            procs.run(procs.as_service_user(command), what="pg_ctl stop")
        except DevEnvError:
            log.warning("pg_ctl stop failed; sending SIGTERM to pid %s", pid)
        procs.terminate(pid, "postgres")
        log.info("PostgreSQL stopped (pid %s)", pid)
