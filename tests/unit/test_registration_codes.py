"""Registration codes: "R-" and eight symbols of Crockford's base32, every symbol as likely at every place."""

from __future__ import annotations

import re

from registration.domain.codes import ALPHABET, new_registration_code


def test_a_code_is_eight_symbols_a_person_can_read_out():
    assert re.fullmatch(r"R-[0-9A-HJKMNP-TV-Z]{8}", new_registration_code())


def test_every_symbol_comes_at_every_place():
    codes = [new_registration_code()[2:] for _ in range(3000)]
    for place in range(8):
        assert {code[place] for code in codes} == set(ALPHABET)
    assert len(set(codes)) == len(codes)
