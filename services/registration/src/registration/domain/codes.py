"""Short registration codes a person can read out at the desk."""

import secrets

# Crockford's base32: no I, L, O or U to mistake for 1, 1, 0 or V.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8


def new_registration_code() -> str:
    # One draw of 40 bits, five a symbol: a draw per symbol read the system's random source 8 times.
    number = secrets.randbits(5 * LENGTH)
    return "R-" + "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(LENGTH))
