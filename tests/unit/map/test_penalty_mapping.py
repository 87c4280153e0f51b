"""The penalty-only correspondences (fines, PUBSTATE, ENTCATG) of DOMAIN.md s. 5."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bridge.events import ChangeEvent
from bridge.map import Mapping
from bridge.map.codes import uscc_check_character
from bridge.map.results import Rejection, TargetRow

EventFactory = Callable[..., ChangeEvent]
COOPERATIVE = "93350100M000100Y4" + uscc_check_character("93350100M000100Y4")

PENALTY: dict[str, Any] = {
    "CASEID": "CASE-310000-2024-0123",
    "UNISCID": "91310115MAF5PJ963C",
    "ENTNAME": "上海禾青餐饮管理有限公司",
    "ENTCATG": 1,
    "PENDECNO": "沪浦市监处[2024]123号",
    "PENDECNO_NORM": "沪浦市监处〔2024〕123号",
    "PENTYPE": "01",
    "PENAM_FEN": 5_000_000,
    "PENDECISSDATE": datetime(2024, 3, 15, 0, 0),
    "PUBLICDATE": datetime(2024, 3, 20, 0, 0),
    "PENAUTH_CN": "上海市浦东新区市场监督管理局",
    "PENAUTH_USCC": "914403001922038216",
    "LOWFINE_FLAG": 1,
    "PUBSTATE": "A",
    "S_EXT_NODENUM": "310000",
}


def mapped(mapping: Mapping, event: EventFactory, **changes: Any) -> TargetRow:
    result = mapping.apply(event("c", after={**PENALTY, **changes}, table="E_CASE_PUB"))
    assert isinstance(result, TargetRow), result
    return result


def test_penalty_in_credit_china_conventions(
    gsxt_cases_to_xyzg: Mapping, event: EventFactory
) -> None:
    row = mapped(gsxt_cases_to_xyzg, event)

    assert dict(row.values) == {
        "cf_xdr_mc": "上海禾青餐饮管理有限公司",
        "cf_xdr_lb": "法人及非法人组织",
        "cf_xdr_shxym": "91310115MAF5PJ963C",
        "cf_wsh": "沪浦市监处[2024]123号",
        "cf_wsh_gf": "沪浦市监处〔2024〕123号",
        "cf_cflb": "01",
        "cf_nr_fk": Decimal("5.000000"),
        "cf_jdrq": date(2024, 3, 15),
        "cf_cfjg": "上海市浦东新区市场监督管理局",
        "cf_cfjgdm": "914403001922038216",
        "dfbm": "310000",
        "gs_zt": 1,
    }
    assert dict(row.key) == {
        "cf_xdr_shxym": "91310115MAF5PJ963C",
        "cf_wsh_gf": "沪浦市监处〔2024〕123号",
    }


@pytest.mark.parametrize(
    ("pubstate", "gs_zt"), [("N", 0), ("A", 1), ("S", 2), ("E", 3), ("R", 4)]
)
def test_pubstate_maps_one_to_one_both_ways(
    gsxt_cases_to_xyzg: Mapping, event: EventFactory, pubstate: str, gs_zt: int
) -> None:
    row = mapped(gsxt_cases_to_xyzg, event, PUBSTATE=pubstate)

    assert row.values["gs_zt"] == gs_zt
    assert gsxt_cases_to_xyzg.reverse(dict(row.values))["PUBSTATE"] == pubstate


@pytest.mark.parametrize(
    ("entcatg", "uscc", "category"),
    [
        (1, "91310115MAF5PJ963C", "法人及非法人组织"),
        (2, "92520102MA8H7LTP12", "个体工商户"),
        # A farmers' cooperative is 法人及非法人组织 too; its USCC (93...) tells.
        (3, COOPERATIVE, "法人及非法人组织"),
    ],
)
def test_entity_category_and_its_stated_way_back(
    gsxt_cases_to_xyzg: Mapping,
    event: EventFactory,
    entcatg: int,
    uscc: str,
    category: str,
) -> None:
    row = mapped(gsxt_cases_to_xyzg, event, ENTCATG=entcatg, UNISCID=uscc)

    assert row.values["cf_xdr_lb"] == category
    assert gsxt_cases_to_xyzg.reverse(dict(row.values))["ENTCATG"] == entcatg


@pytest.mark.parametrize(
    ("fen", "wan_yuan"),
    [(None, None), (0, Decimal("0.000000")), (1, Decimal("0.000001"))],
)
def test_fine_in_fen_becomes_wan_yuan_and_back(
    gsxt_cases_to_xyzg: Mapping,
    event: EventFactory,
    fen: int | None,
    wan_yuan: Decimal | None,
) -> None:
    row = mapped(gsxt_cases_to_xyzg, event, PENAM_FEN=fen)

    assert row.values["cf_nr_fk"] == wan_yuan
    assert gsxt_cases_to_xyzg.reverse(dict(row.values))["PENAM_FEN"] == fen


def test_unknown_pubstate_is_rejected(
    gsxt_cases_to_xyzg: Mapping, event: EventFactory
) -> None:
    result = gsxt_cases_to_xyzg.apply(
        event("c", after={**PENALTY, "PUBSTATE": "X"}, table="E_CASE_PUB")
    )

    assert isinstance(result, Rejection)
    assert result.reason == "gs_zt (from PUBSTATE): value 'X' is not in the value map"
