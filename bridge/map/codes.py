"""Identifiers of the domain: USCCs, penalty decision numbers, ID numbers.

Pure functions with no state, so the mapping transforms, the expression functions and
the reconciliation reports all agree on one definition (DOMAIN.md section 3).
"""

from __future__ import annotations

import operator
import re
import unicodedata
from functools import lru_cache
from typing import Final

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final = {symbol: value for value, symbol in enumerate(USCC_ALPHABET)}
_USCC_SYMBOLS: Final = frozenset(USCC_ALPHABET)
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
USCC_LENGTH: Final = 18


# Pure functions on short text, called per row: deciding units' USCCs and the
# decision numbers of one penalty repeat across many rows, so a small cache pays.
_CACHE_SIZE: Final = 8192


@lru_cache(maxsize=_CACHE_SIZE)
def uscc_problem(code: str) -> str | None:
    """Why *code* is not a valid USCC (GB 32100-2015), or ``None`` when it is.

    The code is taken as given: callers trim and upper-case first if they want to.
    """
    if len(code) != USCC_LENGTH:
        return f"USCC {code!r} has {len(code)} characters, not 18"
    if not _USCC_SYMBOLS.issuperset(code):
        return _alphabet_problem(code)
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return (
            f"USCC {code!r} has check character {code[17]!r}, but positions 1-17 "
            f"give {expected!r}"
        )
    return None


def _alphabet_problem(code: str) -> str:
    position, symbol = next(
        (i, s) for i, s in enumerate(code, 1) if s not in _USCC_VALUE
    )
    return (
        f"USCC {code!r} has {symbol!r} at position {position}, which is not in the "
        "USCC alphabet (0-9 and A-Z without I, O, S, V, Z)"
    )


def uscc_check_character(body: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    if len(body) != 17:
        raise ValueError(f"a USCC body has 17 characters, not {len(body)}")
    total = sum(map(operator.mul, map(_USCC_VALUE.__getitem__, body), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: object) -> bool:
    return isinstance(code, str) and uscc_problem(code) is None


# Bracket characters seen around the year of a decision number. The small tortoise
# shell pair U+FE5D/U+FE5E is what NFKC turns into 〔〕, so it belongs here as well.
_OPEN: Final = "[［【(（〔﹝"
_CLOSE: Final = "]］】)）〕﹞"
_YEAR_IN_BRACKETS: Final = re.compile(
    "[" + re.escape(_OPEN) + r"]([0-9]{4})[" + re.escape(_CLOSE) + "]"
)
_OTHER_BRACKETS: Final = frozenset(_OPEN + _CLOSE) - {"〔", "〕"}
_LEADING_ZEROS: Final = re.compile(r"(?<![0-9])0+(?=[0-9])")


# Decimal digits that NFKC turns into ASCII ones: full-width, mathematical and
# segmented digit blocks. Other scripts' digits (Arabic-Indic ...) NFKC keeps as is.
_DIGIT_BLOCKS: Final = (
    range(0xFF10, 0xFF1A),
    range(0x1D7CE, 0x1D800),
    range(0x1FBF0, 0x1FBFA),
)
_ASCII_DIGITS: Final = {
    cp: unicodedata.normalize("NFKC", chr(cp))
    for block in _DIGIT_BLOCKS
    for cp in block
}


def _ascii_digits(text: str) -> str:
    """NFKC-fold decimal digits only (full-width ９ to 9); other characters stay."""
    return text if text.isascii() else text.translate(_ASCII_DIGITS)


@lru_cache(maxsize=_CACHE_SIZE)
def fold_decision_number(text: str) -> str:
    """The matching form of a penalty decision number.

    Strips all whitespace, folds digits to ASCII and any bracket pair around a 4-digit
    year to 〔〕. 第 and leading zeros are kept on purpose: ``第123号`` and ``123号``
    may be different documents, so :func:`decision_number_near_match` reports them
    instead of this function merging them.
    """
    folded = _ascii_digits("".join(text.split()))
    if _OTHER_BRACKETS.isdisjoint(folded):
        return folded
    return _YEAR_IN_BRACKETS.sub(_canonical_year, folded)


def _canonical_year(match: re.Match[str]) -> str:
    return f"〔{match.group(1)}〕"


def decision_number_near_match(left: str, right: str) -> str | None:
    """A warning when two decision numbers differ only by 第 or leading zeros.

    Returns ``None`` when they fold to the same form (a match) or differ in more than
    that (no match). A near-match is for a person to decide, never merged silently.
    """
    folded_left, folded_right = fold_decision_number(left), fold_decision_number(right)
    if folded_left == folded_right:
        return None
    if _loose(folded_left) != _loose(folded_right):
        return None
    return (
        f"decision numbers {left!r} and {right!r} differ only by 第 or leading zeros; "
        "they are not treated as the same decision, check them by hand"
    )


def _loose(folded: str) -> str:
    return _LEADING_ZEROS.sub("", folded.replace("第", ""))


_ID_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK: Final = "10X98765432"
_ID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9Xx]\Z")


def looks_like_id_number(text: str) -> bool:
    """Whether *text* may be an 18-character resident ID number, for masking.

    Shaped like one (17 digits and a digit or X) and not a valid USCC, unless its
    GB 11643 check character is right as well. Errs on the side of masking: an ID
    number with a wrong check character is still someone's ID number.
    """
    if not _ID_SHAPE.match(text):
        return False
    if uscc_problem(text.upper()) is not None:
        return True
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17].upper()


def mask_id_number(id_number: str) -> str:
    """``520102199001013128`` -> ``520102********3128``: region and last four only."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
