"""The worked rows of DOMAIN.md section 5, shared by the tests that pin them.

``NECIPS_DECIDED`` holds each outcome as NECIPS decided it; ``CREDIT_CHINA_STAGED``,
at the same index, the staging row Credit China must then hold (mapping columns
only).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

Row = dict[str, Any]

NECIPS_DECIDED: list[Row] = [
    {
        "REPAIRNO": "XF-GSXT-310000-20240615-0001",
        "UNISCID": "91310115MAF5PJ963C",
        "ENTNAME": "上海禾青餐饮管理有限公司",
        "REPAIRTYPE": 5,
        "PENDECNO": "沪浦市监处[2024]123号",
        "PENDECNO_NORM": "沪浦市监处〔2024〕123号",
        "REPDECNO": None,
        "REPDECORG_CN": None,
        "REPDECORG_USCC": None,
        "REPDATE": datetime(2024, 6, 15),
        "REPDECTIME": datetime(2024, 6, 15),
        "STOPPUBTIME": datetime(2024, 6, 15),
        "SRCSYS": "01",
        "S_EXT_NODENUM": "310000",
    },
    {
        "REPAIRNO": "XF-GSXT-350000-20250210-0003",
        "UNISCID": "91350102MAWPDQNQ9X",
        "ENTNAME": "福州闽味食品有限公司",
        "REPAIRTYPE": 4,
        "PENDECNO": "榕鼓市监处〔2024〕77号",
        "PENDECNO_NORM": "榕鼓市监处〔2024〕77号",
        "REPDECNO": "榕鼓市监信修〔2025〕3号",
        "REPDECORG_CN": "福州市鼓楼区市场监督管理局",
        "REPDECORG_USCC": "914403001922038216",
        "REPDATE": datetime(2025, 2, 10),
        "REPDECTIME": datetime(2025, 2, 10, 9, 30, 15, 123456),
        "STOPPUBTIME": datetime(2025, 2, 10, 9, 30, 15, 123456),
        "SRCSYS": "01",
        "S_EXT_NODENUM": "350000",
    },
    {
        "REPAIRNO": "XF-GSXT-520000-20240902-0042",
        "UNISCID": "92520102MA8H7LTP12",
        "ENTNAME": "贵阳市南明区李记粉面馆",
        "REPAIRTYPE": 7,
        "PENDECNO": "南市监处［2024］35号",
        "PENDECNO_NORM": "南市监处〔2024〕35号",
        "REPDECNO": "南市监信撤〔2024〕2号",
        "REPDECORG_CN": "贵阳市南明区市场监督管理局",
        "REPDECORG_USCC": "91330100716105852F",
        "REPDATE": datetime(2024, 9, 2),
        "REPDECTIME": datetime(2024, 9, 2, 7, 59, 59, 999999),
        "STOPPUBTIME": None,
        "SRCSYS": "01",
        "S_EXT_NODENUM": "520000",
    },
]
CREDIT_CHINA_STAGED: list[Row] = [
    {
        "xf_bh": "XF-GSXT-310000-20240615-0001",
        "xdr_mc": "上海禾青餐饮管理有限公司",
        "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "91310115MAF5PJ963C",
        "cf_wsh_gf": "沪浦市监处〔2024〕123号",
        "xf_lx": "04",
        "jdfk_bz": True,
        "xf_jdwh": None,
        "xf_rq": date(2024, 6, 15),
        "xf_jdsj": datetime(2024, 6, 14, 16, 0, 0, tzinfo=UTC),
        "xf_dw": None,
        "xf_dwdm": None,
        "zzgs_sj": datetime(2024, 6, 14, 16, 0, 0, tzinfo=UTC),
        "sjly": "GSXT",
        "dfbm": "310000",
    },
    {
        "xf_bh": "XF-GSXT-350000-20250210-0003",
        "xdr_mc": "福州闽味食品有限公司",
        "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "91350102MAWPDQNQ9X",
        "cf_wsh_gf": "榕鼓市监处〔2024〕77号",
        "xf_lx": "01",
        "jdfk_bz": False,
        "xf_jdwh": "榕鼓市监信修〔2025〕3号",
        "xf_rq": date(2025, 2, 10),
        "xf_jdsj": datetime(2025, 2, 10, 1, 30, 15, 123456, tzinfo=UTC),
        "xf_dw": "福州市鼓楼区市场监督管理局",
        "xf_dwdm": "914403001922038216",
        "zzgs_sj": datetime(2025, 2, 10, 1, 30, 15, 123456, tzinfo=UTC),
        "sjly": "GSXT",
        "dfbm": "350000",
    },
    {
        "xf_bh": "XF-GSXT-520000-20240902-0042",
        "xdr_mc": "贵阳市南明区李记粉面馆",
        "xdr_lb": "个体工商户",
        "xdr_shxym": "92520102MA8H7LTP12",
        "cf_wsh_gf": "南市监处〔2024〕35号",
        "xf_lx": "05",
        "jdfk_bz": False,
        "xf_jdwh": "南市监信撤〔2024〕2号",
        "xf_rq": date(2024, 9, 2),
        "xf_jdsj": datetime(2024, 9, 1, 23, 59, 59, 999999, tzinfo=UTC),
        "xf_dw": "贵阳市南明区市场监督管理局",
        "xf_dwdm": "91330100716105852F",
        "zzgs_sj": None,
        "sjly": "GSXT",
        "dfbm": "520000",
    },
]
