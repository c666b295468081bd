"""Voucher codes: enough randomness, readable groups, the wrong shape refused.

Typing mistakes caught by the check character: test_ticketing_codes.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from ticketing.codes import ALPHABET, RANDOM_LENGTH, new_voucher_code, normalise

codes = st.builds(lambda _: new_voucher_code(), st.integers())


def test_codes_carry_at_least_80_random_bits():
    assert RANDOM_LENGTH * math.log2(len(ALPHABET)) >= 80


def test_the_alphabet_has_no_look_alike_characters():
    assert not set(ALPHABET) & set("01ILOUZ")


@given(codes)
def test_a_new_code_is_grouped_and_valid(code):
    assert [len(group) for group in code.split("-")] == [6, 6, 6]
    assert normalise(code) == code
    assert normalise(code.lower().replace("-", " ")) == code


def test_a_code_of_the_wrong_length_or_with_foreign_characters_is_refused():
    code = new_voucher_code()
    assert normalise(code[:-1]) is None
    assert normalise(code.replace(code[0], "0")) is None
