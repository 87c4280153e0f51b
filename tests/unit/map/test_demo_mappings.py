"""The demo mapping files on the worked rows of DOMAIN.md section 5, both ways."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from worked_rows import CREDIT_CHINA_STAGED, NECIPS_DECIDED

from bridge.events import UNAVAILABLE, ChangeEvent
from bridge.map import Mapping
from bridge.map.results import Filtered, Rejection, TargetOperation, TargetRow

EventFactory = Callable[..., ChangeEvent]

# (NECIPS E_CR_REPAIR row, the Credit China row it is on that side)
WORKED_ROWS = list(zip(NECIPS_DECIDED, CREDIT_CHINA_STAGED, strict=True))
IDS = [necips["REPAIRNO"] for necips, _ in WORKED_ROWS]


def _upsert(result: object) -> TargetRow:
    assert isinstance(result, TargetRow), result
    assert result.operation is TargetOperation.UPSERT
    return result


@pytest.mark.parametrize(("necips", "credit_china"), WORKED_ROWS, ids=IDS)
def test_necips_outcome_lands_in_credit_china_staging(
    gsxt_to_xyzg: Mapping,
    event: EventFactory,
    necips: dict[str, Any],
    credit_china: dict[str, Any],
) -> None:
    row = _upsert(gsxt_to_xyzg.apply(event("c", after=necips, table="E_CR_REPAIR")))

    assert row.table == "xyzg.xyxf_jg_gsxt"
    assert dict(row.values) == credit_china
    assert dict(row.key) == {"xf_bh": necips["REPAIRNO"]}


@pytest.mark.parametrize(("necips", "credit_china"), WORKED_ROWS, ids=IDS)
def test_credit_china_staging_row_reverses_to_the_necips_outcome(
    gsxt_to_xyzg: Mapping, necips: dict[str, Any], credit_china: dict[str, Any]
) -> None:
    back = gsxt_to_xyzg.reverse(credit_china)

    expected = {k: v for k, v in necips.items() if k != "PENDECNO_NORM"}
    # The decision number comes back folded: the raw bracket style is not kept.
    expected["PENDECNO"] = necips["PENDECNO_NORM"]
    assert back == expected


@pytest.mark.parametrize(("necips", "credit_china"), WORKED_ROWS, ids=IDS)
def test_credit_china_outcome_lands_in_necips_staging(
    xyzg_to_gsxt: Mapping,
    event: EventFactory,
    necips: dict[str, Any],
    credit_china: dict[str, Any],
) -> None:
    native = {**credit_china, "sjly": "XYZG", "cf_wsh_gf": necips["PENDECNO"]}

    row = _upsert(xyzg_to_gsxt.apply(event("r", after=native)))

    expected = {k: v for k, v in necips.items() if k not in ("PENDECNO",)}
    expected["PENDECNO"] = necips["PENDECNO_NORM"]
    expected["SRCSYS"] = "02"
    assert row.table == "gsxt.E_CR_REPAIR_XYZG"
    assert dict(row.values) == expected
    assert dict(row.key) == {"REPAIRNO": necips["REPAIRNO"]}


@pytest.mark.parametrize(("necips", "credit_china"), WORKED_ROWS, ids=IDS)
def test_necips_staging_row_reverses_to_the_credit_china_outcome(
    xyzg_to_gsxt: Mapping, necips: dict[str, Any], credit_china: dict[str, Any]
) -> None:
    staged = {**necips, "SRCSYS": "02"}

    back = xyzg_to_gsxt.reverse(staged)

    expected = {k: v for k, v in credit_china.items() if k != "xdr_lb"}
    expected["sjly"] = "XYZG"
    expected["cf_wsh_gf"] = necips["PENDECNO"]
    assert back == expected


def test_stoppubtime_midnight_local_is_1600_utc_the_day_before(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    _, credit_china = WORKED_ROWS[0]
    native = {**credit_china, "sjly": "XYZG"}

    row = _upsert(xyzg_to_gsxt.apply(event("c", after=native)))

    assert row.values["STOPPUBTIME"] == datetime(2024, 6, 15, 0, 0, 0)
    assert row.values["REPDATE"] == datetime(2024, 6, 15, 0, 0, 0)


def test_expiry_of_other_penalty_is_repairtype_6(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    _, credit_china = WORKED_ROWS[0]
    native = {**credit_china, "sjly": "XYZG", "jdfk_bz": False}

    row = _upsert(xyzg_to_gsxt.apply(event("c", after=native)))

    assert row.values["REPAIRTYPE"] == 6
    assert xyzg_to_gsxt.reverse({**row.values})["jdfk_bz"] is False


def _credit_china_native(**changes: Any) -> dict[str, Any]:
    return {**WORKED_ROWS[0][1], "sjly": "XYZG", **changes}


def test_loop_guard_filters_an_outcome_that_came_from_necips(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    result = xyzg_to_gsxt.apply(event("u", after=_credit_china_native(sjly="GSXT")))

    assert isinstance(result, Filtered)
    assert result.reason == (
        "loop_guard: the outcome came from NECIPS and is never sent back to it"
    )


def test_loop_guard_filters_necips_rows_that_came_from_credit_china(
    gsxt_to_xyzg: Mapping, event: EventFactory
) -> None:
    necips = {**WORKED_ROWS[0][0], "SRCSYS": "02"}

    result = gsxt_to_xyzg.apply(event("c", after=necips, table="E_CR_REPAIR"))

    assert isinstance(result, Filtered)
    assert result.reason == (
        "loop_guard: the outcome came from Credit China and is never sent back to it"
    )


def test_privacy_rule_filters_natural_persons(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    person = _credit_china_native(
        xdr_lb="自然人", xdr_shxym=None, xdr_zjhm="520102199001013128"
    )

    result = xyzg_to_gsxt.apply(event("c", after=person))

    assert isinstance(result, Filtered)
    assert result.reason == "privacy: natural persons' records never cross to NECIPS"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "91350100M000100Y4Z",
            "UNISCID (from xdr_shxym): USCC '91350100M000100Y4Z' has 'Z' at position "
            "18, which is not in the USCC alphabet (0-9 and A-Z without I, O, S, V, Z)",
        ),
        (
            "91110108MAKFGU0C4F",
            "UNISCID (from xdr_shxym): USCC '91110108MAKFGU0C4F' has check character "
            "'F', but positions 1-17 give 'E'",
        ),
        (
            None,
            "UNISCID (from xdr_shxym): the value is NULL, but the column is required",
        ),
    ],
)
def test_bad_uscc_rejects_the_row_quoting_the_code(
    xyzg_to_gsxt: Mapping, event: EventFactory, code: str | None, reason: str
) -> None:
    result = xyzg_to_gsxt.apply(event("c", after=_credit_china_native(xdr_shxym=code)))

    assert isinstance(result, Rejection)
    assert result.error_class == "MappingError"
    assert result.reason == reason


def test_uscc_is_trimmed_and_upper_cased(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    native = _credit_china_native(xdr_shxym=" 91310115maf5pj963c\u3000")

    row = _upsert(xyzg_to_gsxt.apply(event("c", after=native)))

    assert row.values["UNISCID"] == "91310115MAF5PJ963C"


def test_unmapped_outcome_kind_is_rejected(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    result = xyzg_to_gsxt.apply(event("c", after=_credit_china_native(xf_lx="06")))

    assert isinstance(result, Rejection)
    assert (
        result.reason == "REPAIRTYPE (from xf_lx): value '06' is not in the value map"
    )


def test_delete_becomes_soft_delete_with_commit_time(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    committed = datetime(2024, 6, 16, 2, 0, tzinfo=UTC)
    before = _credit_china_native()

    result = xyzg_to_gsxt.apply(
        event(
            "d", before=before, key={"xf_bh": before["xf_bh"]}, committed_at=committed
        )
    )

    assert isinstance(result, TargetRow)
    assert result.operation is TargetOperation.SOFT_DELETE
    assert dict(result.key) == {"REPAIRNO": "XF-GSXT-310000-20240615-0001"}
    assert dict(result.values) == {"CB_DELETED_AT": committed}


def test_delete_with_key_only_before_image_resolves_by_key(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    # C09: REPLICA IDENTITY DEFAULT sends the key and nulls elsewhere.
    before = {name: None for name in _credit_china_native()}
    before["xf_bh"] = "XF-1"

    result = xyzg_to_gsxt.apply(event("d", before=before, key={"xf_bh": "XF-1"}))

    assert isinstance(result, TargetRow)
    assert dict(result.key) == {"REPAIRNO": "XF-1"}


def test_update_with_unavailable_column_leaves_it_unwritten(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    native = _credit_china_native(xdr_mc=UNAVAILABLE)

    row = _upsert(xyzg_to_gsxt.apply(event("u", after=native)))

    assert "ENTNAME" not in row.values
    assert row.values["REPAIRNO"] == "XF-GSXT-310000-20240615-0001"


def test_unavailable_key_source_rejects_the_row(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    native = _credit_china_native(xdr_shxym=UNAVAILABLE)

    result = xyzg_to_gsxt.apply(event("u", after=native))

    assert isinstance(result, Rejection)
    assert result.reason == (
        "UNISCID (from xdr_shxym): source column xdr_shxym is unavailable (Debezium "
        "did not send its value), and this column cannot be written without it"
    )


def test_event_missing_a_source_column_is_rejected(
    xyzg_to_gsxt: Mapping, event: EventFactory
) -> None:
    native = _credit_china_native()
    del native["xf_jdwh"]

    result = xyzg_to_gsxt.apply(event("c", after=native))

    assert isinstance(result, Rejection)
    assert result.reason == (
        "REPDECNO (from xf_jdwh): source column xf_jdwh is absent from the event"
    )


def test_mapping_exposes_policies_and_metadata_columns(xyzg_to_gsxt: Mapping) -> None:
    assert xyzg_to_gsxt.source_table == "xyzg.xyxf_jg"
    assert xyzg_to_gsxt.target_table == "gsxt.E_CR_REPAIR_XYZG"
    assert xyzg_to_gsxt.target_key == ("REPAIRNO",)
    assert xyzg_to_gsxt.delete_policy.policy == "soft_delete"
    assert xyzg_to_gsxt.delete_policy.column == "CB_DELETED_AT"
    assert xyzg_to_gsxt.conflict.policy == "newer_wins"
    assert xyzg_to_gsxt.conflict.column == "REPDECTIME"
    assert xyzg_to_gsxt.metadata_columns.names() == [
        "CB_ORIGIN",
        "CB_SRC_POSITION",
        "CB_SRC_COMMIT_TS",
        "CB_APPLIED_AT",
    ]
    assert xyzg_to_gsxt.metadata_columns.origin_value == "XYZG"
    assert xyzg_to_gsxt.ref.name == "xyzg_to_gsxt"
    assert len(xyzg_to_gsxt.ref.version) == 16
