"""Voucher codes: enough randomness, readable alphabet, typing mistakes caught offline."""

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


@given(codes, st.data())
def test_every_single_wrong_character_is_caught(code, data):
    symbols = list(code.replace("-", ""))
    position = data.draw(st.integers(0, len(symbols) - 1))
    symbols[position] = data.draw(st.sampled_from([c for c in ALPHABET if c != symbols[position]]))
    assert normalise("".join(symbols)) is None


@given(codes, st.data())
def test_every_swap_of_two_different_neighbours_is_caught(code, data):
    symbols = list(code.replace("-", ""))
    position = data.draw(st.integers(0, len(symbols) - 2))
    if symbols[position] == symbols[position + 1]:
        return  # swapping equal characters changes nothing
    symbols[position], symbols[position + 1] = symbols[position + 1], symbols[position]
    assert normalise("".join(symbols)) is None


def test_a_code_of_the_wrong_length_or_with_foreign_characters_is_refused():
    code = new_voucher_code()
    assert normalise(code[:-1]) is None
    assert normalise(code.replace(code[0], "0")) is None
