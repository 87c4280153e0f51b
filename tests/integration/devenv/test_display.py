"""The display rule of both demo views, driven the way the bridge drives it.

Each test uses its own entity (a fresh USCC) and removes its rows afterwards, so it can
run beside other helpers' tests on the shared servers.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bridge.devenv.identifiers import make_uscc

pytestmark = pytest.mark.db

EngineFor = Callable[..., sa.Engine]
T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 2, 2, 0, tzinfo=UTC)
T2 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)

PG_STAGE = sa.text(
    "INSERT INTO xyzg.xyxf_jg_gsxt (xf_bh, xdr_mc, xdr_shxym, cf_wsh_gf, xf_lx, "
    "xf_rq, xf_jdsj, cb_origin) VALUES (:no, '测试公司', :uscc, :wsh, :lx, "
    "CAST(:jdsj AS date), :jdsj, 'GSXT')"
)
MY_STAGE = sa.text(
    "INSERT INTO gsxt.E_CR_REPAIR_XYZG (REPAIRNO, UNISCID, ENTNAME, REPAIRTYPE, "
    "PENDECNO, REPDATE, REPDECTIME, CB_ORIGIN) VALUES (:no, :uscc, '测试公司', :type, "
    ":wsh, DATE(:local), :local, 'XYZG')"
)


@pytest.fixture
def marker() -> str:
    return uuid.uuid4().hex[:10].upper()


@pytest.fixture
def pg_penalty(engine_for: EngineFor, marker: str) -> Iterator[dict[str, str]]:
    """A displayed Credit China penalty of a fresh entity."""
    admin = engine_for("postgresql", "admin")
    penalty = {"id": str(uuid.uuid4()), "uscc": make_uscc(random.Random(marker), "91",
                                                          "310115"),
               "wsh": f"沪测市监处〔2025〕{marker}号"}
    with admin.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO xyzg.xzcf_gs (id, cf_xdr_mc, cf_xdr_lb, cf_xdr_shxym, "
            "cf_wsh, cf_wsh_gf, cf_jdrq, dfbm, gs_zt) VALUES (:id, '测试公司', "
            "'法人及非法人组织', :uscc, :wsh, :wsh, DATE '2025-01-02', '310000', 1)"),
            penalty)
    yield penalty
    with admin.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM xyzg.xyxf_jg_gsxt WHERE xdr_shxym = :u"),
            {"u": penalty["uscc"]})
        connection.execute(sa.text("DELETE FROM xyzg.xzcf_gs WHERE id = :id"), penalty)


@pytest.fixture
def my_penalty(engine_for: EngineFor, marker: str) -> Iterator[dict[str, str]]:
    """A displayed NECIPS penalty of a fresh entity."""
    admin = engine_for("mysql", "admin")
    penalty = {"case": f"TEST-{marker}", "uscc": make_uscc(random.Random(marker), "92",
                                                           "520102"),
               "wsh": f"南市监处〔2025〕{marker}号"}
    with admin.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO gsxt.E_CASE_PUB (CASEID, UNISCID, ENTNAME, ENTCATG, PENDECNO, "
            "PENDECNO_NORM, PENDECISSDATE, PUBSTATE, S_EXT_NODENUM) VALUES (:case, "
            ":uscc, '测试个体户', 2, :wsh, :wsh, '2025-01-02', 'A', '520000')"),
            penalty)
    yield penalty
    with admin.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM gsxt.E_CR_REPAIR_XYZG WHERE UNISCID = :u"),
            {"u": penalty["uscc"]})
        connection.execute(sa.text("DELETE FROM gsxt.E_CASE_PUB WHERE CASEID = :case"),
                           penalty)


def _pg_shown(engine: sa.Engine, penalty_id: str) -> bool:
    with engine.connect() as connection:
        shown: int = connection.execute(
            sa.text("SELECT count(*) FROM xyzg.v_xzcf_display WHERE id = :id"),
            {"id": penalty_id}).scalar_one()
    return shown == 1


def _my_shown(engine: sa.Engine, case_id: str) -> bool:
    with engine.connect() as connection:
        shown: int = connection.execute(
            sa.text("SELECT count(*) FROM gsxt.V_CASE_DISPLAY WHERE CASEID = :c"),
            {"c": case_id}).scalar_one()
    return shown == 1


def _pg_stage(engine: sa.Engine, penalty: dict[str, str], number: str, kind: str,
              decided: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(PG_STAGE, {"no": number, "uscc": penalty["uscc"],
                                      "wsh": penalty["wsh"], "lx": kind,
                                      "jdsj": decided})


def _my_stage(engine: sa.Engine, penalty: dict[str, str], number: str, kind: int,
              decided: datetime) -> None:
    local = decided.replace(tzinfo=None)  # the test only compares instants
    with engine.begin() as connection:
        connection.execute(MY_STAGE, {"no": number, "uscc": penalty["uscc"],
                                      "wsh": penalty["wsh"], "type": kind,
                                      "local": local})


def test_staged_restoration_hides_a_credit_china_penalty(
    engine_for: EngineFor, pg_penalty: dict[str, str], marker: str
) -> None:
    writer = engine_for("postgresql", "writer")
    assert _pg_shown(writer, pg_penalty["id"])

    _pg_stage(writer, pg_penalty, f"XF-GSXT-T-{marker}-1", "01", T1)

    assert not _pg_shown(writer, pg_penalty["id"])


def test_withdrawal_shows_it_again_by_decision_time_not_arrival(
    engine_for: EngineFor, pg_penalty: dict[str, str], marker: str
) -> None:
    """Pins: a late-arriving but earlier-decided restoration overriding a withdrawal."""
    writer = engine_for("postgresql", "writer")
    _pg_stage(writer, pg_penalty, f"XF-GSXT-T-{marker}-1", "01", T1)
    _pg_stage(writer, pg_penalty, f"XF-GSXT-T-{marker}-2", "05", T2)
    assert _pg_shown(writer, pg_penalty["id"])

    _pg_stage(writer, pg_penalty, f"XF-GSXT-T-{marker}-0", "01", T0)
    assert _pg_shown(writer, pg_penalty["id"])

    with writer.begin() as connection:
        connection.execute(sa.text(
            "UPDATE xyzg.xyxf_jg_gsxt SET cb_deleted_at = now() WHERE xf_bh = :no"),
            {"no": f"XF-GSXT-T-{marker}-2"})
    assert not _pg_shown(writer, pg_penalty["id"])


def test_staged_restoration_hides_a_necips_penalty(
    engine_for: EngineFor, my_penalty: dict[str, str], marker: str
) -> None:
    writer = engine_for("mysql", "writer")
    assert _my_shown(writer, my_penalty["case"])

    _my_stage(writer, my_penalty, f"XF-XYZG-T-{marker}-1", 4, T1)
    assert not _my_shown(writer, my_penalty["case"])

    _my_stage(writer, my_penalty, f"XF-XYZG-T-{marker}-2", 7, T2)
    assert _my_shown(writer, my_penalty["case"])


def test_natural_person_id_number_is_masked_in_the_view(
    engine_for: EngineFor, marker: str
) -> None:
    admin = engine_for("postgresql", "admin")
    penalty_id = str(uuid.uuid4())
    with admin.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO xyzg.xzcf_gs (id, cf_xdr_mc, cf_xdr_lb, cf_xdr_zjhm, cf_wsh, "
            "cf_wsh_gf, cf_jdrq, dfbm) VALUES (:id, '李*明', '自然人', "
            "'520102199001013128', :wsh, :wsh, DATE '2025-01-02', '520000')"),
            {"id": penalty_id, "wsh": f"测〔2025〕{marker}号"})
    try:
        with admin.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT cf_xdr_zjhm_tm, cf_xdr_shxym FROM xyzg.v_xzcf_display "
                "WHERE id = :id"), {"id": penalty_id}).one()
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text("DELETE FROM xyzg.xzcf_gs WHERE id = :id"),
                               {"id": penalty_id})

    assert tuple(row) == ("520102********3128", None)
