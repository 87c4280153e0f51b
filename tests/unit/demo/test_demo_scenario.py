"""The demo's scripted day as data: worked rows, codes and what each step expects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.demo.scenario import (
    CREDIT_CHINA,
    DEAD_LETTER_REASON,
    NECIPS,
    PENALTIES,
    STEPS,
    Expect,
    OutcomeStep,
    Penalty,
    PublishStep,
    Shown,
    expected_counts,
    outcome_steps,
)
from bridge.map.codes import fold_decision_number, uscc_problem

BY_NUMBER = {step.number: step for step in outcome_steps()}


def test_worked_row_lower_fine_expiry_keeps_its_domain_values() -> None:
    step = BY_NUMBER["XF-GSXT-310000-20240615-0001"]

    assert (step.side, step.kind, step.penalty.name, step.uscc) == (
        NECIPS, "5", "上海禾青餐饮管理有限公司", "91310115MAF5PJ963C"
    )
    assert step.penalty.written_necips == "沪浦市监处[2024]123号"
    assert step.penalty.folded == "沪浦市监处〔2024〕123号"
    assert step.stops_local == datetime(2024, 6, 15, 0, 0)
    assert step.stops_utc == datetime(2024, 6, 14, 16, 0, tzinfo=UTC)
    assert step.penalty.province == "310000"


def test_worked_row_early_stop_keeps_its_domain_values() -> None:
    step = BY_NUMBER["XF-GSXT-350000-20250210-0003"]

    assert (step.side, step.kind, step.penalty.name, step.uscc) == (
        NECIPS, "4", "福州闽味食品有限公司", "91350102MAWPDQNQ9X"
    )
    assert step.decision_number == "榕鼓市监信修〔2025〕3号"
    assert step.decided_local.date().isoformat() == "2025-02-10"


def test_worked_row_withdrawal_overrides_an_earlier_restoration() -> None:
    withdrawal = BY_NUMBER["XF-GSXT-520000-20240902-0042"]
    earlier = BY_NUMBER["XF-GSXT-520000-20240815-0031"]

    assert (withdrawal.kind, withdrawal.uscc) == ("7", "92520102MA8H7LTP12")
    assert withdrawal.penalty.name == "贵阳市南明区李记粉面馆"
    assert withdrawal.penalty.written_necips == "南市监处［2024］35号"
    assert earlier.penalty is withdrawal.penalty
    assert earlier.decided_local < withdrawal.decided_local
    assert STEPS.index(earlier) < STEPS.index(withdrawal)
    assert (earlier.after, withdrawal.after) == (
        (Shown.HIDDEN, Shown.HIDDEN), (Shown.SHOWN, Shown.SHOWN)
    )


@pytest.mark.parametrize("penalty", PENALTIES, ids=lambda p: p.label)
def test_each_penalty_folds_to_one_decision_number_on_both_sides(
    penalty: Penalty,
) -> None:
    written = [penalty.written_cc] + ([penalty.written_necips]
                                      if penalty.on_necips else [])

    assert {fold_decision_number(w) for w in written} == {penalty.folded}


@pytest.mark.parametrize("penalty", PENALTIES, ids=lambda p: p.label)
def test_each_penalty_carries_valid_codes(penalty: Penalty) -> None:
    codes = [penalty.authority_uscc] + ([penalty.uscc] if penalty.uscc else [])

    assert [uscc_problem(code) for code in codes] == [None] * len(codes)


def test_only_the_mistyped_uscc_is_invalid_and_its_reason_is_the_expected_one() -> None:
    invalid = [s for s in outcome_steps() if s.uscc and uscc_problem(s.uscc)]

    assert [s.number for s in invalid] == ["XF-XYZG-110000-20251201-0004"]
    assert invalid[0].expect is Expect.DEAD_LETTER
    assert uscc_problem(invalid[0].uscc or "") == DEAD_LETTER_REASON


def test_outcome_numbers_are_unique_and_name_their_registry_and_province() -> None:
    numbers = [s.number for s in outcome_steps()]

    assert len(set(numbers)) == len(numbers)
    for step in outcome_steps():
        assert step.number.startswith(f"XF-{step.side}-{step.penalty.province}-")


def test_the_day_expects_3_to_necips_5_back_1_dead_letter_1_filtered() -> None:
    assert expected_counts() == {
        "to_necips": 3, "to_credit_china": 5, "dead_letters": 1, "filtered": 1
    }


def test_the_early_outcome_is_matched_once_credit_china_publishes_the_penalty() -> None:
    early = BY_NUMBER["XF-GSXT-440000-20251201-0088"]
    publish = next(s for s in STEPS if isinstance(s, PublishStep))

    assert not early.penalty.published_on_cc_at_start
    assert publish.penalty is early.penalty and publish.side == CREDIT_CHINA
    assert STEPS.index(early) < STEPS.index(publish)
    assert (early.after, publish.after) == (
        (Shown.ABSENT, Shown.HIDDEN), (Shown.HIDDEN, Shown.HIDDEN)
    )


def test_the_natural_person_is_filtered_and_never_on_necips() -> None:
    filtered = [s for s in outcome_steps() if s.expect is Expect.FILTERED]

    assert [(s.penalty.category, s.uscc, s.side) for s in filtered] == [
        ("自然人", None, CREDIT_CHINA)
    ]
    assert not filtered[0].penalty.on_necips
    assert filtered[0].after == (Shown.HIDDEN, Shown.ABSENT)


def test_every_step_is_an_outcome_or_a_publication() -> None:
    kinds = [type(step) for step in STEPS]

    assert kinds.count(OutcomeStep) == 10 and kinds.count(PublishStep) == 1
