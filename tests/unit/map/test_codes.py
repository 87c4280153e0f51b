"""USCC check characters, decision-number folding and ID masking (DOMAIN.md s. 3)."""

from __future__ import annotations

import unicodedata

import pytest

from bridge.map.codes import (
    decision_number_near_match,
    fold_decision_number,
    mask_id_number,
    uscc_problem,
)


@pytest.mark.parametrize(
    "code",
    [
        "914403001922038216",
        "91330100716105852F",
        "91350100M000100Y43",
        # The worked rows of DOMAIN.md section 5 must all be valid.
        "91310115MAF5PJ963C",
        "91350102MAWPDQNQ9X",
        "92520102MA8H7LTP12",
    ],
)
def test_valid_uscc_has_no_problem(code: str) -> None:
    assert uscc_problem(code) is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (
            "91350100M000100Y4Z",
            "USCC '91350100M000100Y4Z' has 'Z' at position 18, which is not in the "
            "USCC alphabet (0-9 and A-Z without I, O, S, V, Z)",
        ),
        (
            "91110108MAKFGU0C4F",
            "USCC '91110108MAKFGU0C4F' has check character 'F', but positions 1-17 "
            "give 'E'",
        ),
        (
            "9111O108MAKFGU0C4E",
            "USCC '9111O108MAKFGU0C4E' has 'O' at position 5, which is not in the "
            "USCC alphabet (0-9 and A-Z without I, O, S, V, Z)",
        ),
        ("91350100M000100Y4", "USCC '91350100M000100Y4' has 17 characters, not 18"),
        (
            "91350100m000100y43",
            "USCC '91350100m000100y43' has 'm' at position 9, which is not in the "
            "USCC alphabet (0-9 and A-Z without I, O, S, V, Z)",
        ),
    ],
)
def test_invalid_uscc_says_exactly_why(code: str, problem: str) -> None:
    assert uscc_problem(code) == problem


@pytest.mark.parametrize(
    "written",
    [
        "沪浦市监处〔2024〕123号",
        "沪浦市监处[2024]123号",
        "沪浦市监处［2024］123号",
        "沪浦市监处【2024】123号",
        "沪浦市监处(2024)123号",
        "沪浦市监处（2024）123号",
        "沪浦市监处﹝2024﹞123号",
        "沪浦市监处〔２０２４〕１２３号",
        "沪浦市监处［２０２４］１２３号",
        " 沪浦市监处 [ 2024 ] 123 号 ",
        "沪浦市监处\u3000〔2024〕\t123号\n",
        "沪浦市监处（2024]123号",
    ],
)
def test_every_bracket_digit_and_space_variant_folds_to_one_form(written: str) -> None:
    assert fold_decision_number(written) == "沪浦市监处〔2024〕123号"


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        # Brackets around something other than a 4-digit year are left alone.
        ("沪浦市监处[24]123号", "沪浦市监处[24]123号"),
        ("沪浦市监处(20245)123号", "沪浦市监处(20245)123号"),
        # 第 and leading zeros are never dropped.
        ("沪浦市监处〔2024〕第123号", "沪浦市监处〔2024〕第123号"),
        ("沪浦市监处〔2024〕0123号", "沪浦市监处〔2024〕0123号"),
    ],
)
def test_folding_keeps_what_is_not_a_bracketed_year(written: str, folded: str) -> None:
    assert fold_decision_number(written) == folded


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("沪浦市监处〔2024〕123号", "沪浦市监处〔2024〕第123号"),
        ("沪浦市监处〔2024〕123号", "沪浦市监处[2024]0123号"),
        ("沪浦市监处（2024）第0123号", "沪浦市监处〔2024〕123号"),
    ],
)
def test_near_match_by_di_or_leading_zeros_is_reported_not_folded(
    left: str, right: str
) -> None:
    assert fold_decision_number(left) != fold_decision_number(right)
    assert decision_number_near_match(left, right) == (
        f"decision numbers {left!r} and {right!r} differ only by 第 or leading "
        "zeros; they are not treated as the same decision, check them by hand"
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("沪浦市监处[2024]123号", "沪浦市监处〔2024〕123号"),  # a match
        ("沪浦市监处〔2024〕123号", "沪浦市监处〔2024〕124号"),  # different
        ("沪浦市监处〔2024〕123号", "沪浦市监处〔2023〕123号"),  # different
    ],
)
def test_no_near_match_warning_for_matches_or_real_differences(
    left: str, right: str
) -> None:
    assert decision_number_near_match(left, right) is None


def test_id_number_is_masked_to_region_and_last_four() -> None:
    assert mask_id_number("520102199001013128") == "520102********3128"
    assert mask_id_number("52010219900101312X") == "520102********312X"
    assert mask_id_number("1234") == "****"


def test_every_digit_nfkc_makes_ascii_is_folded() -> None:
    # Pins the digit table: a digit block left out would silently not match.
    digits = [
        chr(cp)
        for cp in range(0x80, 0x110000)
        if unicodedata.category(chr(cp)) == "Nd"
        and unicodedata.normalize("NFKC", chr(cp)).isascii()
    ]
    assert fold_decision_number("".join(digits)) == "".join(
        unicodedata.normalize("NFKC", d) for d in digits
    )
