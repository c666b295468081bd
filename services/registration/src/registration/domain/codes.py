"""Short registration codes a person can read out at the desk."""

import secrets

# Crockford's base32: no I, L, O or U to mistake for 1, 1, 0 or V.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_registration_code() -> str:
    return "R-" + "".join(secrets.choice(ALPHABET) for _ in range(8))
