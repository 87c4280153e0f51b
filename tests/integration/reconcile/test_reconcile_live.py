"""``creditbridge reconcile`` on the demo databases, for rows seeded by hand.

The rows stand for what the bridge would have left: source rows on one side, staged
rows and a dead letter on the other. They change on 30 September 2021 (Beijing), the
day before National Day (1-7 October off, Saturday 9 October worked), years before the
demo generator's outcomes, so the report of that day holds these rows only. The test
holds the demo lock (no demo or end-to-end test resets the tables meanwhile) and
deletes its rows, all numbered ``XF-RECON-...``, before and after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bridge.apply.schema import dead_letter
from bridge.cli.main import app
from bridge.demo.lock import demo_lock
from bridge.devenv.api import DevEnv

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "XF-RECON-"
FINGERPRINT = "reconcile-live-test".ljust(64, "0")
DAY = "2021-09-30"
TO_NECIPS = "Credit China -> NECIPS"
TO_CREDIT_CHINA = "NECIPS -> Credit China"

DECIDED = datetime(2021, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
# The last microsecond of the day in Beijing, as NECIPS writes it and as UTC.
NECIPS_DECIDED = datetime(2021, 9, 30, 23, 59, 59, 999999)
NECIPS_DECIDED_UTC = datetime(2021, 9, 30, 15, 59, 59, 999999, tzinfo=UTC)


def credit_china(n: int, **changes: Any) -> dict[str, Any]:
    """An ``xyzg.xyxf_jg`` row changed at 10:00:05 Beijing time on the day."""
    return {
        "xf_bh": f"{PREFIX}C{n}",
        "xdr_mc": f"对账测试企业{n}有限公司",
        "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "91310115MAF5PJ963C",
        "xdr_zjhm": None,
        "cf_wsh_gf": f"琼海市监处〔2021〕{n}号",
        "xf_lx": "01",
        "jdfk_bz": False,
        "xf_jdwh": f"琼海市监信修〔2021〕{n}号",
        "xf_rq": date(2021, 9, 30),
        "xf_jdsj": DECIDED,
        "xf_dw": "琼海市市场监督管理局",
        "xf_dwdm": "914403001922038216",
        "zzgs_sj": DECIDED,
        "sjly": "XYZG",
        "dfbm": "460000",
        "gxsj": datetime(2021, 9, 30, 2, 0, 5, tzinfo=UTC),
        **changes,
    }


def staged_in_necips(n: int, applied: datetime, **changes: Any) -> dict[str, Any]:
    """The ``gsxt.E_CR_REPAIR_XYZG`` row the bridge writes for ``credit_china(n)``."""
    return {
        "REPAIRNO": f"{PREFIX}C{n}",
        "UNISCID": "91310115MAF5PJ963C",
        "ENTNAME": f"对账测试企业{n}有限公司",
        "REPAIRTYPE": 4,
        "PENDECNO": f"琼海市监处〔2021〕{n}号",
        "PENDECNO_NORM": f"琼海市监处〔2021〕{n}号",
        "REPDECNO": f"琼海市监信修〔2021〕{n}号",
        "REPDECORG_CN": "琼海市市场监督管理局",
        "REPDECORG_USCC": "914403001922038216",
        "REPDATE": datetime(2021, 9, 30),
        "REPDECTIME": datetime(2021, 9, 30, 10, 0),
        "STOPPUBTIME": datetime(2021, 9, 30, 10, 0),
        "SRCSYS": "02",
        "S_EXT_NODENUM": "460000",
        "CB_ORIGIN": "XYZG",
        "CB_APPLIED_AT": applied.replace(tzinfo=None),  # UTC, as the bridge writes
        **changes,
    }


def necips(n: int, **changes: Any) -> dict[str, Any]:
    """A ``gsxt.E_CR_REPAIR`` row decided at the last microsecond of the day."""
    return {
        "REPAIRNO": f"{PREFIX}N{n}",
        "UNISCID": "91350102MAWPDQNQ9X",
        "ENTNAME": f"对账测试商户{n}",
        "REPAIRTYPE": 4,
        "PENDECNO": f"琼海市监处［2021］{n}号",
        "PENDECNO_NORM": f"琼海市监处〔2021〕{n}号",
        "REPDECNO": f"琼海市监信修〔2021〕{n}号",
        "REPDECORG_CN": "琼海市市场监督管理局",
        "REPDECORG_USCC": "914403001922038216",
        "REPDATE": datetime(2021, 9, 30),
        "REPDECTIME": NECIPS_DECIDED,
        "STOPPUBTIME": NECIPS_DECIDED,
        "SRCSYS": "01",
        "S_EXT_NODENUM": "460000",
        **changes,
    }


def staged_in_credit_china(n: int, applied: datetime, **changes: Any) -> dict[str, Any]:
    """The ``xyzg.xyxf_jg_gsxt`` row the bridge writes for ``necips(n)``."""
    return {
        "xf_bh": f"{PREFIX}N{n}",
        "xdr_mc": f"对账测试商户{n}",
        "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "91350102MAWPDQNQ9X",
        "cf_wsh_gf": f"琼海市监处〔2021〕{n}号",
        "xf_lx": "01",
        "jdfk_bz": False,
        "xf_jdwh": f"琼海市监信修〔2021〕{n}号",
        "xf_rq": date(2021, 9, 30),
        "xf_jdsj": NECIPS_DECIDED_UTC,
        "xf_dw": "琼海市市场监督管理局",
        "xf_dwdm": "914403001922038216",
        "zzgs_sj": NECIPS_DECIDED_UTC,
        "sjly": "GSXT",
        "dfbm": "460000",
        "cb_origin": "GSXT",
        "cb_applied_at": applied,
        **changes,
    }


CREDIT_CHINA_ROWS = [
    # 00:00 Beijing: the first instant of the day. Applied on the 3rd working day.
    credit_china(1, gxsj=datetime(2021, 9, 29, 16, 0, tzinfo=UTC)),
    credit_china(2),  # staged with another kind, on the 4th working day
    credit_china(3),  # never staged
    credit_china(4, dfbm="540000", xdr_lb="自然人", xdr_shxym=None,
                 xdr_zjhm="520102199001013128"),
    credit_china(5, dfbm="540000", xdr_shxym="91310115MAF5PJ963D"),  # dead letter
    # 00:00 Beijing on 1 October: the next day's, not in the report.
    credit_china(6, gxsj=datetime(2021, 9, 30, 16, 0, tzinfo=UTC)),
    credit_china(7, dfbm="650000"),  # staged the same day
]
NECIPS_STAGED = [
    staged_in_necips(1, datetime(2021, 10, 11, 3, 0, tzinfo=UTC)),
    staged_in_necips(2, datetime(2021, 10, 12, 1, 0, tzinfo=UTC), REPAIRTYPE=7),
    staged_in_necips(7, datetime(2021, 9, 30, 2, 0, 6, tzinfo=UTC),
                     S_EXT_NODENUM="650000"),
]
NECIPS_ROWS = [
    necips(1),  # staged on the 1st working day after the holiday
    necips(2),  # staged, then soft-deleted
    # No decision instant: REPDATE places it on the day.
    necips(3, S_EXT_NODENUM="540000", REPAIRTYPE=7, REPDECTIME=None,
           STOPPUBTIME=None),
    necips(4, S_EXT_NODENUM="540000", SRCSYS="02"),  # came from Credit China
    necips(5, REPDECTIME=datetime(2021, 10, 1)),  # the next day's
    necips(6, S_EXT_NODENUM="650000", SRCSYS="02"),
]
CREDIT_CHINA_STAGED = [
    staged_in_credit_china(1, datetime(2021, 10, 8, 1, 0, tzinfo=UTC)),
    staged_in_credit_china(
        2,
        datetime(2021, 9, 30, 16, 0, 1, tzinfo=UTC),
        cb_deleted_at=datetime(2021, 10, 2, tzinfo=UTC),
    ),
]


def _insert(engine: sa.Engine, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        statement = sa.text(
            f"INSERT INTO {table} ({', '.join(row)}) "
            f"VALUES ({', '.join(':' + c for c in row)})"
        )
        with engine.begin() as connection:
            connection.execute(statement, row)


def _delete_rows(pg: sa.Engine, mysql: sa.Engine) -> None:
    like = {"like": f"{PREFIX}%"}
    with pg.begin() as connection:
        for table in ("xyzg.xyxf_jg", "xyzg.xyxf_jg_gsxt"):
            connection.execute(sa.text(f"DELETE FROM {table} WHERE xf_bh LIKE :like"),
                               like)
    with mysql.begin() as connection:
        for table in ("gsxt.E_CR_REPAIR", "gsxt.E_CR_REPAIR_XYZG"):
            connection.execute(
                sa.text(f"DELETE FROM {table} WHERE REPAIRNO LIKE :like"), like
            )
        connection.execute(
            dead_letter.delete().where(dead_letter.c.fingerprint == FINGERPRINT)
        )


def _dead_letter(mysql: sa.Engine) -> int:
    """The dead letter the bridge would write for ``credit_china(5)``."""
    with mysql.begin() as connection:
        inserted = connection.execute(
            dead_letter.insert().values(
                pipeline="xyzg-to-gsxt",
                fingerprint=FINGERPRINT,
                created_at=datetime(2021, 9, 30, 2, 0, 6),
                source_table="xyzg.xyxf_jg",
                event_key=json.dumps({"xf_bh": f"{PREFIX}C5"}),
                source_position="{}",
                position_order="[1]",
                event="{}",
                mapping_name="xyzg_to_gsxt",
                mapping_path="mappings/xyzg_to_gsxt.yaml",
                mapping_version="test",
                error_class="MappingError",
                message="UNISCID (from xdr_shxym): bad check character",
                status="new",
            )
        )
        primary_key = inserted.inserted_primary_key
        assert primary_key is not None
        return int(primary_key[0])


@pytest.fixture
def seeded(dev_env: DevEnv) -> Iterator[int]:
    """The rows above in the demo tables; yields the dead letter's id."""
    pg = sa.create_engine(dev_env.postgres.url("admin"), poolclass=sa.NullPool)
    mysql = sa.create_engine(dev_env.mysql.url("admin"), poolclass=sa.NullPool)
    with demo_lock(dev_env.home):
        _delete_rows(pg, mysql)
        try:
            _insert(pg, "xyzg.xyxf_jg", CREDIT_CHINA_ROWS)
            _insert(mysql, "gsxt.E_CR_REPAIR_XYZG", NECIPS_STAGED)
            _insert(mysql, "gsxt.E_CR_REPAIR", NECIPS_ROWS)
            _insert(pg, "xyzg.xyxf_jg_gsxt", CREDIT_CHINA_STAGED)
            yield _dead_letter(mysql)
        finally:
            _delete_rows(pg, mysql)
            pg.dispose()
            mysql.dispose()


def _reconcile(monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[int, Any]:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["reconcile", "--day", DAY, "--json", *options])
    return result.exit_code, json.loads(result.output)


def _line(
    province: str, name: str, direction: str, *counts: int
) -> dict[str, Any]:
    names = ("changed", "agree", "missing", "differs", "late", "rejected", "filtered")
    return {"province": province, "name": name, "direction": direction,
            **dict(zip(names, counts, strict=True))}


def _problem(
    direction: str, province: str, number: str, verdict: str, **fields: Any
) -> dict[str, Any]:
    pipeline = "xyzg-to-gsxt" if direction == TO_NECIPS else "gsxt-to-xyzg"
    return {"pipeline": pipeline, "direction": direction, "province": province,
            "outcome": number, "verdict": verdict, "late": False, "detail": "",
            "differences": [], **fields}


def test_the_day_in_both_directions(
    seeded: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = _reconcile(monkeypatch)

    assert code == 1
    assert (report["day"], report["late_after_working_days"], report["ok"]) == (
        DAY, 3, False
    )
    assert len(report["provinces"]) == 64
    assert [line for line in report["provinces"] if line["changed"]] == [
        _line("460000", "Hainan", TO_NECIPS, 3, 1, 1, 1, 1, 0, 0),
        _line("460000", "Hainan", TO_CREDIT_CHINA, 2, 1, 0, 1, 0, 0, 0),
        _line("540000", "Tibet", TO_NECIPS, 2, 0, 0, 0, 0, 1, 1),
        _line("540000", "Tibet", TO_CREDIT_CHINA, 2, 0, 1, 0, 0, 0, 1),
        _line("650000", "Xinjiang", TO_NECIPS, 1, 1, 0, 0, 0, 0, 0),
        _line("650000", "Xinjiang", TO_CREDIT_CHINA, 1, 0, 0, 0, 0, 0, 1),
    ]
    assert report["problems"] == [
        _problem(
            TO_NECIPS, "460000", f"{PREFIX}C2", "differs", late=True,
            detail="applied 2021-10-12, 4 working days after the change on "
            "2021-09-30",
            differences=[{"column": "REPAIRTYPE", "expected": "4", "found": "7"}],
        ),
        _problem(TO_NECIPS, "460000", f"{PREFIX}C3", "missing",
                 detail="no row on the other side"),
        _problem(
            TO_CREDIT_CHINA, "460000", f"{PREFIX}N2", "differs",
            differences=[{"column": "cb_deleted_at", "expected": "NULL",
                          "found": "2021-10-02 00:00:00+00:00"}],
        ),
        _problem(
            TO_NECIPS, "540000", f"{PREFIX}C5", "rejected",
            detail=f"dead letter {seeded} (new): UNISCID (from xdr_shxym): bad "
            "check character",
        ),
        _problem(TO_CREDIT_CHINA, "540000", f"{PREFIX}N3", "missing",
                 detail="no row on the other side"),
    ]


def test_one_province(seeded: int, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = _reconcile(monkeypatch, "--province", "540000")

    assert code == 1
    assert report["provinces"] == [
        _line("540000", "Tibet", TO_NECIPS, 2, 0, 0, 0, 0, 1, 1),
        _line("540000", "Tibet", TO_CREDIT_CHINA, 2, 0, 1, 0, 0, 0, 1),
    ]
    assert [p["outcome"] for p in report["problems"]] == [
        f"{PREFIX}C5", f"{PREFIX}N3"
    ]


def test_a_province_where_all_agree_exits_0(
    seeded: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = _reconcile(monkeypatch, "--province", "650000")

    assert code == 0
    assert report["ok"] is True
    assert report["provinces"] == [
        _line("650000", "Xinjiang", TO_NECIPS, 1, 1, 0, 0, 0, 0, 0),
        _line("650000", "Xinjiang", TO_CREDIT_CHINA, 1, 0, 0, 0, 0, 0, 1),
    ]
    assert report["problems"] == []
