"""A Debian sid chroot holding Oracle MySQL, built once per machine and cached.

Debian 12 ships no MySQL server, but the sid suite of the same mirror has
``mysql-server-core`` (MySQL 9.x), which Debezium's MySQL connector supports (MariaDB
is not). The chroot is built with debootstrap, its data directory initialised, and the
result kept as a tarball under ``~/.cache/creditbridge`` so every later dev home on the
machine (another clone included) restores it in seconds instead of downloading again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from bridge.devenv import procs
from bridge.errors import DevEnvError

log = logging.getLogger(__name__)

MIRROR_ENV = "CREDITBRIDGE_DEBIAN_MIRROR"
CACHE_ENV = "CREDITBRIDGE_CACHE"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SYSTEM_DIRS = ("/usr/sbin", "/sbin")  # not on PATH for every root shell
TARBALL = "mysql-sid-chroot.tar.gz"
BUILD_LOG = "chroot-build.log"
MYSQL_USER = "cbmysql"

# Paths inside the chroot.
CONFIG = "/etc/mysql/creditbridge.cnf"
DATA_DIR = "/var/lib/cbmysql"
RUN_DIR = "/run/cbmysqld"
LOG_DIR = "/var/log/cbmysql"
MYSQLD = "/usr/sbin/mysqld"


def cache_dir() -> Path:
    """``$CREDITBRIDGE_CACHE`` or ``~/.cache/creditbridge``: outside any clone."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "creditbridge"


def host_mirror() -> str:
    """The Debian mirror the host's own apt sources use (deb822 or one-line form)."""
    configured = os.environ.get(MIRROR_ENV)
    if configured:
        return configured

    sources = [Path("/etc/apt/sources.list"),
               *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if source.is_file():
            mirror = _mirror_in(source.read_text(encoding="utf-8", errors="replace"))
            if mirror:
                return mirror
    return DEFAULT_MIRROR


def _mirror_in(text: str) -> str | None:
    pattern = r"(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(https?://\S+)"
    for match in re.finditer(pattern, text, flags=re.MULTILINE):
        uri = match.group(1).rstrip("/")
        if uri.endswith("/debian"):
            return uri
    return None


def cached() -> bool:
    """The built chroot is in the cache: starting MySQL needs no download."""
    return (cache_dir() / TARBALL).exists()


def restore(target: Path, work_log: Path) -> None:
    """Unpack the cached, initialised chroot into *target*, building it if needed."""
    tarball = ensure_tarball(work_log)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    procs.run(["tar", "-C", str(target), "--numeric-owner", "-xzf", str(tarball)],
              what=f"unpacking {tarball}")
    log.info("restored MySQL chroot into %s", target)


def ensure_tarball(work_log: Path) -> Path:
    """The cached chroot tarball; builds it (about a minute, ~95 MB download)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / TARBALL
    with _cache_lock(cache):
        if tarball.exists():
            return tarball
        _check_build_prerequisites()
        build = cache / f"build-{os.getpid()}"
        try:
            build_chroot(build, work_log)
            _pack(build, tarball)
        finally:
            if build.exists():
                shutil.rmtree(build, ignore_errors=True)
    return tarball


@contextlib.contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    with (cache / "build.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_build_prerequisites() -> None:
    if not procs.is_root():
        raise DevEnvError(
            "building the MySQL chroot needs root (debootstrap and chroot); run "
            "as root once, put an Oracle mysqld on PATH, or set CREDITBRIDGE_MYSQL_URL"
        )
    for program, package in (("debootstrap", "debootstrap"), ("chroot", "coreutils"),
                             ("tar", "tar")):
        if find_program(program) is None:
            raise DevEnvError(
                f"{program} not found: run scripts/setup or apt-get install {package}"
            )


def find_program(name: str) -> str | None:
    """*name* on PATH or in the system directories root's PATH may lack."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SYSTEM_DIRS])
    return shutil.which(name, path=search)


def build_chroot(root: Path, work_log: Path) -> None:
    """debootstrap sid, install mysql-server-core, initialise a data directory."""
    mirror = host_mirror()
    log.info("building MySQL chroot in %s from %s (about a minute)", root, mirror)
    debootstrap = find_program("debootstrap") or "debootstrap"
    procs.run([debootstrap, "--variant=minbase", "sid", str(root), mirror],
              what=f"debootstrap sid from {mirror}", log_file=work_log)

    # The mirror's sid Release file may be past Valid-Until for this machine's clock.
    apt_conf = root / "etc/apt/apt.conf.d/99creditbridge"
    apt_conf.write_text('Acquire::Check-Valid-Until "false";\n')
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    procs.run(["chroot", str(root), "apt-get", "install", "-y",
               "--no-install-recommends", "mysql-server-core"],
              what="apt-get install mysql-server-core in the chroot", env=env,
              log_file=work_log)
    if not (root / MYSQLD.lstrip("/")).exists():
        raise DevEnvError(f"mysql-server-core installed no {MYSQLD} in {root}")

    _add_mysql_user(root)
    _initialise_data_dir(root, work_log)
    _trim(root)


def _add_mysql_user(root: Path) -> None:
    procs.run(["chroot", str(root), "useradd", "--system", "--user-group",
               "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", MYSQL_USER],
              what=f"useradd {MYSQL_USER} in the chroot")
    uid, gid = chroot_user(root)
    for inner in (DATA_DIR, RUN_DIR, LOG_DIR):
        path = root / inner.lstrip("/")
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, uid, gid)
    (root / DATA_DIR.lstrip("/")).chmod(0o750)


def chroot_user(root: Path) -> tuple[int, int]:
    """uid and gid of the MySQL user, read from the chroot's own /etc/passwd."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == MYSQL_USER:
            return int(fields[2]), int(fields[3])
    raise DevEnvError(f"user {MYSQL_USER} missing from {root}/etc/passwd; "
                      "delete the cached chroot tarball to rebuild it")


def _initialise_data_dir(root: Path, work_log: Path) -> None:
    """``mysqld --initialize-insecure``: root@localhost without password, socket only.

    The first start of each dev instance sets every password, so the cached tarball
    holds no secret.
    """
    config = root / CONFIG.lstrip("/")
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[mysqld]\ndatadir={DATA_DIR}\nlog-error={LOG_DIR}/error.log\n"
        f"socket={RUN_DIR}/mysqld.sock\nmysqlx=OFF\n"
    )
    uid, gid = chroot_user(root)
    procs.run(["chroot", f"--userspec={uid}:{gid}", str(root), MYSQLD,
               f"--defaults-file={CONFIG}", "--initialize-insecure"],
              what="mysqld --initialize-insecure in the chroot", log_file=work_log)


def _trim(root: Path) -> None:
    for inner in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc",
                  "usr/share/man", "usr/share/info"):
        path = root / inner
        if path.is_dir():
            shutil.rmtree(path)
            path.mkdir()
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def _pack(root: Path, tarball: Path) -> None:
    partial = tarball.with_name(tarball.name + ".partial")
    procs.run(["tar", "-C", str(root), "--numeric-owner", "-czf", str(partial), "."],
              what=f"packing the MySQL chroot into {tarball}")
    os.replace(partial, tarball)
    log.info("cached MySQL chroot as %s", tarball)
