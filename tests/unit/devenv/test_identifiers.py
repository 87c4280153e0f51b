from __future__ import annotations

import random
from datetime import date

import pytest

from bridge.devenv.identifiers import id_number_check, make_id_number, make_uscc
from bridge.map.codes import is_valid_uscc


@pytest.mark.parametrize("prefix", ["91", "92", "93", "11", "12"])
def test_made_usccs_pass_the_gb32100_check(prefix: str) -> None:
    rng = random.Random(3)

    codes = [make_uscc(rng, prefix, "310115") for _ in range(500)]

    assert all(is_valid_uscc(code) for code in codes)
    assert {code[:8] for code in codes} == {prefix + "310115"}


def test_id_number_check_of_the_standard_example() -> None:
    assert id_number_check("11010519491231002") == "X"


def test_made_id_number_carries_division_birth_date_and_check() -> None:
    number = make_id_number(random.Random(1), "520102", date(1990, 1, 1))

    assert number[:14] == "52010219900101"
    assert number[17] == id_number_check(number[:17])
