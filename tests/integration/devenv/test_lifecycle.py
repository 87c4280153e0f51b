"""``dev up`` / ``dev down`` on a private home: a second pair of servers of our own.

The shared servers other helpers use are never stopped here. Tests run in file order:
up, up again, seed, down, up after down, down.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.devenv import api, procs, schema
from bridge.devenv.generator import seed_both
from bridge.devenv.home import resolve_home
from bridge.map.codes import is_valid_uscc

pytestmark = pytest.mark.db

EXTERNAL = ("CREDITBRIDGE_PG_URL", "CREDITBRIDGE_MYSQL_URL")
PROGRAMS = {"postgresql": "postgres", "mysql": "mysqld"}


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    # Inside the shared home: the service user can traverse it (pytest's tmp is 0700).
    path = resolve_home() / "test-homes" / uuid.uuid4().hex[:8]
    with pytest.MonkeyPatch.context() as patch:
        for name in EXTERNAL:
            patch.delenv(name, raising=False)
        yield path
        api.down(path)
    shutil.rmtree(path, ignore_errors=True)


def _pids(home: Path) -> dict[str, int | None]:
    return {state.kind: state.pid for state in api.status(home)}


def _gone(pid: int) -> bool:
    """No process, or only a zombie waiting for init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_up_starts_both_servers_on_their_own_ports(home: Path) -> None:
    env = api.ensure_up(home)

    pids = _pids(home)
    assert all(pids.values())
    shared = api.status()
    assert {env.postgres.port, env.mysql.port}.isdisjoint({s.port for s in shared})


def test_up_twice_is_a_no_op(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pins: a second ``dev up`` restarting servers or re-running the schema SQL."""
    before, pids = api.ensure_up(home), _pids(home)

    def fail(server: object) -> None:
        raise AssertionError("schema installed again")

    monkeypatch.setattr(schema, "install_postgres", fail)
    monkeypatch.setattr(schema, "install_mysql", fail)
    result = CliRunner().invoke(app, ["dev", "up", "--home", str(home)])

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"PostgreSQL 127.0.0.1:{before.postgres.port} and MySQL "
        f"127.0.0.1:{before.mysql.port} are up (state in {home})\n"
    )
    assert _pids(home) == pids


def test_seeded_data_keeps_identifiers_valid_and_persons_home(home: Path) -> None:
    env = api.ensure_up(home)

    report = seed_both(env, seed=5, count=300)

    pg = sa.create_engine(env.postgres.url("admin"))
    my = sa.create_engine(env.mysql.url("admin"))
    with pg.connect() as connection:
        subjects = connection.exec_driver_sql(
            "SELECT cf_xdr_lb, cf_xdr_shxym, cf_xdr_zjhm FROM xyzg.xzcf_gs").all()
        provinces = connection.exec_driver_sql(
            "SELECT count(DISTINCT dfbm) FROM xyzg.xzcf_gs").scalar()
    with my.connect() as connection:
        usccs = connection.exec_driver_sql(
            "SELECT UNISCID FROM gsxt.E_CASE_PUB UNION ALL "
            "SELECT UNISCID FROM gsxt.E_CR_REPAIR").scalars().all()
    pg.dispose()
    my.dispose()

    persons = [row for row in subjects if row[2] is not None]
    assert persons
    assert {(row[0], row[1]) for row in persons} == {("自然人", None)}
    assert [u for u in usccs if not is_valid_uscc(u)] == []
    assert report.rows["gsxt.E_CASE_PUB"] == len(subjects) - len(persons)
    assert provinces == 32


def test_down_leaves_no_process(home: Path) -> None:
    pids = _pids(home)

    result = CliRunner().invoke(app, ["dev", "down", "--home", str(home)])

    assert result.exit_code == 0, result.output
    for kind, pid in pids.items():
        assert pid is not None
        assert not procs.pid_alive(pid, PROGRAMS[kind])
        assert _gone(pid)
    assert [s.state for s in api.status(home)] == ["stopped", "stopped"]


def test_up_after_down_reuses_the_recorded_ports(home: Path) -> None:
    ports = {state.kind: state.port for state in api.status(home)}

    env = api.ensure_up(home)

    assert {"postgresql": env.postgres.port, "mysql": env.mysql.port} == ports
    api.down(home)
    assert [s.state for s in api.status(home)] == ["stopped", "stopped"]
