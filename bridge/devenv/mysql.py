"""The local Oracle MySQL server of the NECIPS demo side.

Two ways to run it, chosen on first start and recorded in ``<home>/mysql/mode``:

* ``host``: an Oracle ``mysqld`` (not MariaDB, which Debezium's MySQL connector cannot
  stream from) is on PATH; its data directory lives under ``<home>/mysql/data``.
* ``chroot``: the cached Debian sid chroot (see :mod:`bridge.devenv.chroot`) is
  unpacked to ``<home>/mysql/root`` and mysqld runs inside it; the chroot shares the
  network, so the host reaches it on 127.0.0.1.

The server keeps its clock in UTC (``default-time-zone='+00:00'``): NECIPS ``DATETIME``
columns hold Beijing wall-clock values written by the applications, never converted by
the server.
"""

from __future__ import annotations

import logging
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from bridge.devenv import chroot, procs
from bridge.devenv.home import read_port
from bridge.errors import DevEnvError

log = logging.getLogger(__name__)

ADMIN_USER = "cb_admin"
DATABASE = "gsxt"
READY_TIMEOUT = 120.0

# Popen handles of servers this process started, kept so they are not garbage
# collected (with a warning) while the server runs; procs.pid_alive reaps them.
_children: list[subprocess.Popen[bytes]] = []

SETTINGS = """[mysqld]
datadir={data_dir}
socket={socket}
pid-file={run_dir}/mysqld.pid
log-error={log_dir}/error.log
port={port}
bind-address=127.0.0.1
mysqlx=OFF
skip-name-resolve
log-bin=binlog
binlog_format=ROW
binlog_row_image=FULL
server_id={server_id}
gtid_mode=ON
enforce_gtid_consistency=ON
character-set-server=utf8mb4
default-time-zone='+00:00'
performance_schema=OFF
secure-file-priv=NULL
innodb_buffer_pool_size=128M
"""


def oracle_mysqld_on_path() -> str | None:
    """Path of an Oracle mysqld on PATH; None when absent or when it is MariaDB."""
    found = shutil.which("mysqld")
    if not found:
        return None
    try:
        version = procs.run([found, "--version"], what="mysqld --version")
    except DevEnvError:
        return None
    return None if "mariadb" in version.lower() else found


@dataclass(frozen=True)
class MysqlServer:
    """One MySQL instance under ``<home>/mysql``."""

    root: Path

    @property
    def mode(self) -> str | None:
        path = self.root / "mode"
        return path.read_text().strip() if path.exists() else None

    @property
    def port(self) -> int | None:
        return read_port(self.root / "port")

    @property
    def pid_file(self) -> Path:
        return self.root / "mysqld.pid"

    @property
    def chroot_dir(self) -> Path:
        return self.root / "root"

    def inner(self, path: str) -> Path:
        """Host path of *path* as mysqld sees it."""
        if self.mode == "chroot":
            return self.chroot_dir / path.lstrip("/")
        return Path(path)

    def _paths(self) -> dict[str, str]:
        """Paths in mysqld's own view (inside the chroot in chroot mode)."""
        if self.mode == "chroot":
            return {"config": chroot.CONFIG, "data_dir": chroot.DATA_DIR,
                    "run_dir": chroot.RUN_DIR, "log_dir": chroot.LOG_DIR}
        return {"config": str(self.root / "my.cnf"),
                "data_dir": str(self.root / "data"),
                "run_dir": str(self.root / "run"),
                "log_dir": str(self.root / "log")}

    @property
    def socket(self) -> Path:
        return self.inner(self._paths()["run_dir"] + "/mysqld.sock")

    @property
    def error_log(self) -> Path:
        return self.inner(self._paths()["log_dir"] + "/error.log")

    def initialised(self) -> bool:
        return self.mode is not None and self.port is not None

    def pid(self) -> int | None:
        pid = procs.read_pid(self.pid_file)
        if pid is not None and procs.pid_alive(pid, "mysqld"):
            return pid
        return None

    def initialise(self) -> None:
        """Lay out an initialised data directory and write the server settings."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        self.root.chmod(0o755)

        mysqld = oracle_mysqld_on_path()
        if mysqld is not None:
            self._initialise_on_host(mysqld)
        else:
            chroot.restore(self.chroot_dir, self.root / chroot.BUILD_LOG)
            (self.root / "mode").write_text("chroot\n")

        self._write_settings(procs.free_port())
        log.info("initialised MySQL (%s mode) under %s, port %s", self.mode, self.root,
                 self.port)

    def _initialise_on_host(self, mysqld: str) -> None:
        (self.root / "mode").write_text("host\n")
        (self.root / "mysqld-path").write_text(mysqld + "\n")
        paths = self._paths()
        for key in ("data_dir", "run_dir", "log_dir"):
            Path(paths[key]).mkdir(parents=True, exist_ok=True)
        Path(paths["data_dir"]).rmdir()  # --initialize wants to create it itself
        if procs.is_root():
            user = procs.ensure_service_user()
            procs.chown_tree(self.root, user.pw_uid, user.pw_gid)
        self._write_settings(0)
        procs.run(procs.as_service_user(
            [mysqld, f"--defaults-file={paths['config']}", "--initialize-insecure"]),
            what="mysqld --initialize-insecure")

    def _write_settings(self, port: int) -> None:
        paths = self._paths()
        text = SETTINGS.format(
            data_dir=paths["data_dir"], run_dir=paths["run_dir"],
            log_dir=paths["log_dir"], socket=paths["run_dir"] + "/mysqld.sock",
            port=port, server_id=random.randint(1000, 2**31 - 1),
        )
        self.inner(paths["config"]).write_text(text)
        (self.root / "port").write_text(f"{port}\n")

    def _command(self) -> list[str]:
        config = f"--defaults-file={self._paths()['config']}"
        if self.mode == "chroot":
            uid, gid = chroot.chroot_user(self.chroot_dir)
            return ["chroot", f"--userspec={uid}:{gid}", str(self.chroot_dir),
                    chroot.MYSQLD, config]
        mysqld = (self.root / "mysqld-path").read_text().strip()
        return procs.as_service_user([mysqld, config])

    def start(self) -> int:
        """Start mysqld, record its pid, and wait until it accepts connections."""
        port = self.port
        if port is None:
            raise DevEnvError(f"no port recorded in {self.root / 'port'}")
        if procs.port_in_use(port):
            raise DevEnvError(
                f"MySQL port {port} (recorded in {self.root / 'port'}) is taken by "
                "another process; stop it or run `creditbridge dev down` first"
            )

        with (self.root / "mysqld.out").open("ab") as out:
            child = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True,
            )
        _children.append(child)
        self.pid_file.write_text(f"{child.pid}\n")
        self._wait_ready(child.pid, port)
        log.info("MySQL running, pid %s, port %s", child.pid, port)
        return child.pid

    def _wait_ready(self, pid: int, port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not procs.pid_alive(pid, "mysqld"):
                raise DevEnvError(
                    f"mysqld exited during start-up; error log {self.error_log}: "
                    f"{procs.tail_file(self.error_log)}"
                )
            if procs.port_in_use(port) and self.socket.exists():
                return
            time.sleep(0.2)
        procs.terminate(pid, "mysqld")
        raise DevEnvError(
            f"mysqld did not accept connections on port {port} within "
            f"{READY_TIMEOUT:.0f}s and was stopped; error log {self.error_log}: "
            f"{procs.tail_file(self.error_log)}"
        )

    def stop(self) -> None:
        """SIGTERM the recorded pid and wait until it is gone."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        procs.terminate(pid, "mysqld")
        self.pid_file.unlink(missing_ok=True)
        log.info("MySQL stopped (pid %s)", pid)

    def bootstrapped(self) -> bool:
        return (self.root / "bootstrapped").exists()

    def bootstrap_admin(self, admin_password: str) -> None:
        """Create the TCP admin account and give root@localhost a password.

        A fresh data directory has root@localhost without a password, reachable on
        the socket only; this runs once, right after the first start.
        """
        connection = self._root_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE USER IF NOT EXISTS '{ADMIN_USER}'@'%%' IDENTIFIED BY %s",
                    (admin_password,),
                )
                cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' "
                               "WITH GRANT OPTION")
                cursor.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s",
                               (admin_password,))
        finally:
            connection.close()
        (self.root / "bootstrapped").write_text("1\n")

    def _root_connection(self) -> pymysql.Connection[Any]:
        """root on the socket; retried while mysqld is still finishing its start."""
        deadline = time.monotonic() + 30.0
        while True:
            try:
                return pymysql.connect(unix_socket=str(self.socket), user="root",
                                       password="", autocommit=True)
            except pymysql.err.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DevEnvError(
                        f"cannot reach mysqld as root on {self.socket}: {exc}; "
                        f"error log {self.error_log}: {procs.tail_file(self.error_log)}"
                    ) from exc
                log.debug("mysqld socket not ready yet: %s", exc)
                time.sleep(0.5)
