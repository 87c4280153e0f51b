"""Native outcome rows for the demo pipelines, and the SQL to write and read them.

Shared by the end-to-end tests and ``benchmarks/bench_pipeline.py``. Rows are numbered:
the same number always gives the same row, and every column a mapping can carry back
(``Mapping.reverse``) survives the round trip, so a staged row reversed equals its
source row on those columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

Row = dict[str, Any]

# Valid USCCs (check character included); 92... is an individual business.
USCCS = ("91310115MAF5PJ963C", "91350102MAWPDQNQ9X", "92520102MA8H7LTP12")
AUTHORITY_USCC = "914403001922038216"
PROVINCES = ("310000", "350000", "520000", "110000")
CREDIT_CHINA_KINDS = ("01", "02", "03", "04", "05")
# REPAIRTYPE 2 maps to xf_lx 03 like 1 does, so it cannot come back; left out here.
NECIPS_KINDS = (1, 3, 4, 5, 6, 7)

CREDIT_CHINA_SOURCE = "xyzg.xyxf_jg"
CREDIT_CHINA_STAGING = "xyzg.xyxf_jg_gsxt"
NECIPS_SOURCE = "gsxt.E_CR_REPAIR"
NECIPS_STAGING = "gsxt.E_CR_REPAIR_XYZG"

_FIRST_DAY = date(2025, 1, 1)
_FIRST_INSTANT = datetime(2025, 1, 1, tzinfo=UTC)


def _category(uscc: str) -> str:
    return "个体工商户" if uscc.startswith("92") else "法人及非法人组织"


def credit_china_outcome(tag: str, n: int) -> Row:
    """Outcome number *n* decided on Credit China (a ``xyzg.xyxf_jg`` row)."""
    kind = CREDIT_CHINA_KINDS[n % len(CREDIT_CHINA_KINDS)]
    uscc = USCCS[n % len(USCCS)]
    decided = _FIRST_INSTANT + timedelta(seconds=n * 7, microseconds=n * 37 % 10**6)
    return {
        "xf_bh": f"XF-XYZG-{tag}-{n:06d}",
        "xdr_mc": f"端到端测试企业{n}有限公司",
        "xdr_lb": _category(uscc),
        "xdr_shxym": uscc,
        "cf_wsh_gf": f"沪浦市监处〔2024〕{n}号",
        "xf_lx": kind,
        "jdfk_bz": kind == "04" and n % 2 == 0,
        "xf_jdwh": f"沪浦市监信修〔2025〕{n}号",
        "xf_rq": _FIRST_DAY + timedelta(days=n % 300),
        "xf_jdsj": decided,
        "xf_dw": "上海市浦东新区市场监督管理局",
        "xf_dwdm": AUTHORITY_USCC,
        "zzgs_sj": None if kind == "05" else decided,
        "sjly": "XYZG",
        "dfbm": PROVINCES[n % len(PROVINCES)],
    }


def necips_outcome(tag: str, n: int) -> Row:
    """Outcome number *n* decided on NECIPS (a ``gsxt.E_CR_REPAIR`` row)."""
    kind = NECIPS_KINDS[n % len(NECIPS_KINDS)]
    uscc = USCCS[n % len(USCCS)]
    decided = datetime(2025, 1, 1) + timedelta(seconds=n * 7, microseconds=n * 37)
    number = f"闽榕市监处〔2024〕{n}号"
    return {
        "REPAIRNO": f"XF-GSXT-{tag}-{n:06d}",
        "UNISCID": uscc,
        "ENTNAME": f"端到端测试商户{n}",
        "REPAIRTYPE": kind,
        "PENDECNO": number,
        "PENDECNO_NORM": number,
        "REPDECNO": f"榕鼓市监信修〔2025〕{n}号",
        "REPDECORG_CN": "福州市鼓楼区市场监督管理局",
        "REPDECORG_USCC": AUTHORITY_USCC,
        "REPDATE": datetime(2025, 1, 1) + timedelta(days=n % 300),
        "REPDECTIME": decided,
        "STOPPUBTIME": None if kind == 7 else decided,
        "SRCSYS": "01",
        "S_EXT_NODENUM": PROVINCES[n % len(PROVINCES)],
    }


def insert_rows(engine: sa.Engine, table: str, rows: Sequence[Row]) -> None:
    """Insert *rows* into *table* in one transaction (executemany)."""
    if not rows:
        return
    columns = list(rows[0])
    statement = sa.text(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )
    with engine.begin() as connection:
        connection.execute(statement, list(rows))


def insert_in_batches(
    engine: sa.Engine, table: str, rows: Iterable[Row], batch: int = 500
) -> None:
    """Insert *rows*, committing every *batch* rows (so capture streams meanwhile)."""
    pending: list[Row] = []
    for row in rows:
        pending.append(row)
        if len(pending) == batch:
            insert_rows(engine, table, pending)
            pending = []
    insert_rows(engine, table, pending)


def count(engine: sa.Engine, table: str, where: str = "", **params: Any) -> int:
    with engine.connect() as connection:
        query = sa.text(f"SELECT count(*) FROM {table} {where}")
        return int(connection.execute(query, params).scalar_one())


def count_keys(engine: sa.Engine, table: str, key: str, prefix: str) -> int:
    """Rows of *table* whose *key* starts with *prefix* (other tests' rows may be
    there too)."""
    return count(engine, table, f"WHERE {key} LIKE :like", like=f"{prefix}%")


def rows_by_key(engine: sa.Engine, table: str, key: str, prefix: str) -> dict[str, Row]:
    """Rows of *table* whose *key* starts with *prefix*, by key."""
    query = sa.text(f"SELECT * FROM {table} WHERE {key} LIKE :like")
    with engine.connect() as connection:
        result = connection.execute(query, {"like": f"{prefix}%"})
        return {row[key]: dict(row) for row in result.mappings()}
