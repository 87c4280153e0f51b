"""Generating the identifiers of the demo data: USCCs and resident ID numbers.

Checking and folding live in :mod:`bridge.map.codes` (one definition for the whole
project); this module only makes new, valid values from a random source.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Final

from bridge.map.codes import USCC_ALPHABET, uscc_check_character

# GB 11643 resident ID number: weights 2^(17-i) mod 11, check from the remainder.
_ID_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK: Final = "10X98765432"


def make_uscc(rng: random.Random, prefix: str, division: str) -> str:
    """A valid USCC: *prefix* (department and category, e.g. ``91``), *division*.

    Positions 9-17 are a random subject id drawn from the USCC alphabet.
    """
    subject = "".join(rng.choices(USCC_ALPHABET, k=9))
    body = f"{prefix}{division}{subject}"
    return body + uscc_check_character(body)


def id_number_check(body: str) -> str:
    """The 18th character of a resident ID number from its first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS,
                                                              strict=True))
    return _ID_CHECK[total % 11]


def make_id_number(rng: random.Random, division: str, born: date) -> str:
    """A resident ID number with a correct check character."""
    body = f"{division}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + id_number_check(body)
