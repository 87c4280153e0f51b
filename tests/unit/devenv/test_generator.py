from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from bridge.devenv.generator import (
    MYSQL_OUTCOME,
    MYSQL_PENALTY,
    NATURAL_PERSON,
    PROVINCE_CODES,
    add_months,
    beijing,
    generate,
    rows_of,
    wan_yuan,
)
from bridge.errors import ConfigError
from bridge.map.codes import fold_decision_number, is_valid_uscc

CASES = list(generate(seed=11, count=3000))


def test_same_seed_gives_the_same_cases() -> None:
    assert list(generate(seed=11, count=50)) == CASES[:50]


def test_another_seed_gives_other_cases() -> None:
    assert list(generate(seed=12, count=50)) != CASES[:50]


def test_every_uscc_passes_the_check() -> None:
    codes = [case.uscc for case in CASES if case.uscc is not None]
    codes += [case.authority_uscc for case in CASES]
    codes += [o.unit_uscc for case in CASES for o in case.outcomes]

    assert [code for code in codes if not is_valid_uscc(code)] == []


def test_natural_persons_are_flagged_and_have_no_uscc() -> None:
    persons = [case for case in CASES if case.id_number is not None]

    assert persons
    assert {case.category for case in persons} == {NATURAL_PERSON}
    assert {case.uscc for case in persons} == {None}
    assert all(re.fullmatch(r"\w\*\w", case.name) for case in persons)


def test_natural_persons_never_reach_the_necips_side() -> None:
    """Pins: a natural person's penalty or outcome written into MySQL."""
    persons = [case for case in CASES if case.category == NATURAL_PERSON]
    tables = {table for case in persons for table, _ in rows_of(case)}

    assert MYSQL_PENALTY not in tables
    assert MYSQL_OUTCOME not in tables
    assert {o.side for case in persons for o in case.outcomes} <= {"XYZG"}


def test_individual_businesses_and_cooperatives_are_present() -> None:
    prefixes = {case.uscc[:2] for case in CASES if case.uscc}

    assert prefixes == {"91", "92", "93"}


def test_every_province_including_the_corps_appears() -> None:
    assert {case.province for case in CASES[:32]} == set(PROVINCE_CODES)
    assert len(PROVINCE_CODES) == 32
    assert "660000" in PROVINCE_CODES


def test_both_sides_fold_to_the_same_decision_number() -> None:
    mismatched = [
        case.index for case in CASES
        if fold_decision_number(case.mysql_decision_number) != case.folded
        or fold_decision_number(case.pg_decision_number) != case.folded
    ]

    assert mismatched == []
    assert all("〔" in case.folded and "〕" in case.folded for case in CASES)


def test_all_bracket_variants_and_full_width_digits_are_written() -> None:
    written = "".join(case.pg_decision_number + case.mysql_decision_number
                      for case in CASES)

    for opening in "〔[［【(（":
        assert opening in written
    assert "２０" in written


def test_outcome_numbers_are_unique_and_fit_varchar_40() -> None:
    numbers = [o.number for case in CASES for o in case.outcomes]

    assert len(numbers) == len(set(numbers))
    assert max(len(number) for number in numbers) <= 40


def test_fines_cover_null_zero_and_the_boundary() -> None:
    fines = {case.fine_fen for case in CASES}

    assert {None, 0, 5_000_000} <= fines


@pytest.mark.parametrize(
    ("fen", "wan"),
    [(None, None), (0, Decimal("0.000000")), (1, Decimal("0.000001")),
     (5_000_000, Decimal("5.000000")), (123_456_789, Decimal("123.456789"))],
)
def test_fen_to_wan_yuan_is_exact(fen: int | None, wan: Decimal | None) -> None:
    assert wan_yuan(fen) == wan


def test_lower_fine_boundary_differs_by_province() -> None:
    """Pins: Guizhou and Fujian count only fines below 50,000 yuan as lower fines."""
    at_boundary = [case for case in CASES if case.fine_fen == 5_000_000]
    by_province = {case.province: case.lower_fine for case in at_boundary}

    assert by_province["310000"] is True
    assert by_province["520000"] is False
    assert by_province["350000"] is False


def test_three_months_after_november_30_is_february_29() -> None:
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 12, 15), 36) == date(2027, 12, 15)


def test_expiries_are_recorded_as_outcomes_with_the_fine_kind() -> None:
    expiries = [(case, o) for case in CASES for o in case.outcomes if o.xf_lx == "04"]

    assert expiries
    assert all(o.repairtype == (5 if case.lower_fine else 6) for case, o in expiries)


def test_local_time_is_utc_plus_eight() -> None:
    from datetime import UTC, datetime

    instant = datetime(2024, 6, 14, 16, 0, tzinfo=UTC)

    assert beijing(instant) == datetime(2024, 6, 15, 0, 0)


def test_count_outside_the_range_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        list(generate(seed=1, count=9))

    assert str(caught.value) == (
        "seed count 9 is outside 10..1000000; nothing was generated"
    )
