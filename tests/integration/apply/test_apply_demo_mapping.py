"""The demo mapping's results into the real Credit China staging table, as cb_writer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bridge.apply import Applier, make_engine
from bridge.apply.schema import checkpoint, dead_letter
from bridge.events import ChangeEvent, Operation, SourcePosition
from bridge.map import load_mapping

pytestmark = pytest.mark.db

MAPPING = Path(__file__).parents[3] / "mappings" / "gsxt_to_xyzg.yaml"
STAGING = "xyzg.xyxf_jg_gsxt"


@pytest.fixture
def writer(dev_env: Any) -> Iterator[tuple[Engine, str, str]]:
    engine = make_engine(dev_env.postgres.url("writer"))
    number = f"XF-GSXT-310000-20240615-T{uuid.uuid4().hex[:8].upper()}"
    pipeline = f"test-apply-demo-{uuid.uuid4().hex[:8]}"
    yield engine, number, pipeline
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"DELETE FROM {STAGING} WHERE xf_bh = :n"), {"n": number}
        )
        for table in (checkpoint, dead_letter):
            connection.execute(table.delete().where(table.c.pipeline == pipeline))
    engine.dispose()


def repair(number: str, order: int, op: Operation, **changes: Any) -> ChangeEvent:
    row = {
        "REPAIRNO": number, "UNISCID": "91310115MAF5PJ963C",
        "ENTNAME": "上海禾青餐饮管理有限公司", "PENDECNO": "沪浦市监处[2024]123号",
        "REPAIRTYPE": 5, "REPDECNO": "沪浦市监信修[2024]9号",
        "REPDECORG_CN": "上海市浦东新区市场监督管理局",
        "REPDECORG_USCC": "11310115MB2F31945E",
        "REPDATE": datetime(2024, 6, 15), "REPDECTIME": datetime(2024, 6, 14, 9, 30),
        "STOPPUBTIME": datetime(2024, 6, 15), "SRCSYS": "01", "S_EXT_NODENUM": "310000",
        **changes,
    }  # fmt: skip
    return ChangeEvent(
        op=op,
        source="gsxt",
        schema="gsxt",
        table="E_CR_REPAIR",
        key={"REPAIRNO": number},
        before=row if op is Operation.DELETE else None,
        after=None if op is Operation.DELETE else row,
        position=SourcePosition("gsxt", (1, 100 + order, 0, 0), False, {"pos": order}),
        committed_at=datetime(2024, 6, 14, 1, 30, order, tzinfo=UTC),
        transaction_id=f"gtid:{order}",
    )


def staged(engine: Engine, number: str) -> dict[str, Any]:
    query = f"SELECT * FROM {STAGING} WHERE xf_bh = :n"
    with engine.connect() as connection:
        return dict(connection.execute(sa.text(query), {"n": number}).mappings().one())


def test_worked_outcome_lands_staged_and_an_older_decision_loses(
    writer: tuple[Engine, str, str],
) -> None:
    engine, number, pipeline = writer
    mapping = load_mapping(MAPPING)
    applier = Applier.for_mappings(engine, [mapping])
    newest = repair(number, 1, Operation.CREATE)
    older = repair(
        number, 2, Operation.UPDATE, REPDECTIME=datetime(2024, 6, 1), ENTNAME="旧"
    )
    echo = repair(number, 3, Operation.UPDATE, SRCSYS="02")

    report = applier.apply_batch(
        pipeline, [mapping.apply(e) for e in (newest, older, echo)]
    )

    row = staged(engine, number)
    assert (report.applied, report.filtered, report.dead_lettered) == (2, 1, 0)
    assert {k: row[k] for k in ("xdr_mc", "cf_wsh_gf", "xf_lx", "xf_rq", "sjly")} == {
        "xdr_mc": "上海禾青餐饮管理有限公司",
        "cf_wsh_gf": "沪浦市监处〔2024〕123号",
        "xf_lx": "04",
        "xf_rq": date(2024, 6, 15),
        "sjly": "GSXT",
    }
    assert row["zzgs_sj"] == datetime(2024, 6, 14, 16, 0, tzinfo=UTC)
    assert row["xf_jdsj"] == datetime(2024, 6, 14, 1, 30, tzinfo=UTC)
    assert (row["cb_origin"], row["cb_deleted_at"]) == ("GSXT", None)
    assert row["cb_src_commit_ts"] == datetime(2024, 6, 14, 1, 30, 1, tzinfo=UTC)
    assert '"order": [1, 101, 0, 0]' in row["cb_src_position"]


def test_source_delete_soft_deletes_the_staged_outcome(
    writer: tuple[Engine, str, str],
) -> None:
    engine, number, pipeline = writer
    mapping = load_mapping(MAPPING)
    applier = Applier.for_mappings(engine, [mapping])
    applier.apply_batch(pipeline, [mapping.apply(repair(number, 1, Operation.CREATE))])

    applier.apply_batch(pipeline, [mapping.apply(repair(number, 2, Operation.DELETE))])

    row = staged(engine, number)
    assert row["cb_deleted_at"] == datetime(2024, 6, 14, 1, 30, 2, tzinfo=UTC)
    assert row["xdr_mc"] == "上海禾青餐饮管理有限公司"


@pytest.fixture
def necips_writer(dev_env: Any) -> Iterator[tuple[Engine, str, str]]:
    engine = make_engine(dev_env.mysql.url("writer"))
    number = f"XF-XYZG-350000-20250210-T{uuid.uuid4().hex[:8].upper()}"
    pipeline = f"test-apply-demo-{uuid.uuid4().hex[:8]}"
    yield engine, number, pipeline
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM gsxt.E_CR_REPAIR_XYZG WHERE REPAIRNO = :n"),
            {"n": number},
        )
        for table in (checkpoint, dead_letter):
            connection.execute(table.delete().where(table.c.pipeline == pipeline))
    engine.dispose()


def outcome(number: str, order: int, **changes: Any) -> ChangeEvent:
    row = {
        "xf_bh": number, "xdr_mc": "福州闽味食品有限公司", "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "91350102MAWPDQNQ9X", "xdr_zjhm": None,
        "cf_wsh_gf": "榕鼓市监处〔2024〕88号", "xf_lx": "01", "jdfk_bz": False,
        "xf_jdwh": "榕鼓市监信修〔2025〕3号", "xf_rq": date(2025, 2, 10),
        "xf_jdsj": datetime(2025, 2, 10, 2, 0, 0, 123456, tzinfo=UTC),
        "xf_dw": "福州市鼓楼区市场监督管理局", "xf_dwdm": None,
        "zzgs_sj": datetime(2025, 2, 9, 16, 0, tzinfo=UTC), "sjly": "XYZG",
        "dfbm": "350000", "gxsj": None, **changes,
    }  # fmt: skip
    return ChangeEvent(
        op=Operation.CREATE,
        source="xyzg",
        schema="xyzg",
        table="xyxf_jg",
        key={"xf_bh": number},
        before=None,
        after=row,
        position=SourcePosition("xyzg", (500 + order, 500 + order, 0), False, {}),
        committed_at=datetime(2025, 2, 10, 2, 0, order, 654321, tzinfo=UTC),
        transaction_id=str(order),
    )


def test_credit_china_outcome_lands_in_necips_staging_in_local_time(
    necips_writer: tuple[Engine, str, str],
) -> None:
    engine, number, pipeline = necips_writer
    mapping = load_mapping(MAPPING.with_name("xyzg_to_gsxt.yaml"))
    applier = Applier.for_mappings(engine, [mapping])
    person = outcome(number, 2, xdr_lb="自然人", xdr_shxym=None)

    report = applier.apply_batch(
        pipeline, [mapping.apply(outcome(number, 1)), mapping.apply(person)]
    )

    query = "SELECT * FROM gsxt.E_CR_REPAIR_XYZG WHERE REPAIRNO = :n"
    with engine.connect() as connection:
        row = dict(connection.execute(sa.text(query), {"n": number}).mappings().one())
    assert (report.applied, report.filtered) == (1, 1)
    assert (row["REPAIRTYPE"], row["SRCSYS"], row["CB_ORIGIN"]) == (4, "02", "XYZG")
    assert row["REPDATE"] == datetime(2025, 2, 10, 0, 0)
    assert row["REPDECTIME"] == datetime(2025, 2, 10, 10, 0, 0, 123456)
    assert row["STOPPUBTIME"] == datetime(2025, 2, 10, 0, 0)
    assert row["CB_SRC_COMMIT_TS"] == datetime(2025, 2, 10, 2, 0, 1, 654321)
    assert row["CB_DELETED_AT"] is None
