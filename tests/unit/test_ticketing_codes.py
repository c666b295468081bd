"""Voucher codes, checked exhaustively: every single wrong character and every swap of two
different neighbours, at every position, is caught by the check character."""

from __future__ import annotations

from ticketing.codes import ALPHABET, new_voucher_code, normalise


def symbols_of(code: str) -> str:
    return code.replace("-", "")


def test_every_single_character_error_of_a_code_is_caught():
    for _ in range(100):
        symbols = symbols_of(new_voucher_code())
        for position, typed in enumerate(symbols):
            for mistake in ALPHABET.replace(typed, ""):
                assert normalise(symbols[:position] + mistake + symbols[position + 1 :]) is None


def test_every_swap_of_two_different_neighbours_is_caught():
    for _ in range(300):
        symbols = symbols_of(new_voucher_code())
        for position in range(len(symbols) - 1):
            first, second = symbols[position], symbols[position + 1]
            if first != second:
                assert normalise(symbols[:position] + second + first + symbols[position + 2 :]) is None


def test_look_alike_characters_are_never_part_of_a_code():
    look_alikes = set("01ILOUZ") | set("ilouz")
    assert not any(set(new_voucher_code()) & look_alikes for _ in range(1000))
