"""Voucher codes: 82 random bits, no look-alike characters, a check character.

29 symbols (a prime): digits 2-9 and capitals without I, L, O, U, Z. The check character
makes sum(position * value) a multiple of 29, so every single wrong character and every
swap of two neighbours is caught without a database.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"
_BASE = len(ALPHABET)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
RANDOM_LENGTH = 17  # 29**17 > 2**82
GROUP = 6


def _weighted_sum(symbols: str) -> int:
    return sum((position + 1) * _VALUE[c] for position, c in enumerate(symbols))


def _check_character(body: str) -> str:
    weight = len(body) + 1
    # Solve weighted_sum(body) + weight * check == 0 (mod 29).
    value = (-_weighted_sum(body) * pow(weight, -1, _BASE)) % _BASE
    return ALPHABET[value]


def new_voucher_code() -> str:
    # One draw of the whole number, its base-29 digits the symbols: a draw per symbol read the system's
    # random source 17 times, a few per cent of ticketing's CPU when issuing.
    number = secrets.randbelow(_BASE**RANDOM_LENGTH)
    body = ""
    for _ in range(RANDOM_LENGTH):
        number, digit = divmod(number, _BASE)
        body += ALPHABET[digit]
    symbols = body + _check_character(body)
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def normalise(code: str) -> str | None:
    """The canonical grouped form of a typed code, or None when it cannot be one of ours."""
    symbols = code.replace("-", "").replace(" ", "").upper()
    if len(symbols) != RANDOM_LENGTH + 1 or any(c not in _VALUE for c in symbols):
        return None
    if _weighted_sum(symbols) % _BASE:
        return None
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))
