"""The QR payload verifies with the published key, and with nothing else or after any change."""

from __future__ import annotations

import base64
import json
import os
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from ticketing.config import Settings
from ticketing.signing import InvalidQrPayload, VoucherSigner, public_key_from_jwk, verify_qr_payload

SIGNER = VoucherSigner(bytes(range(32)))
PUBLISHED = public_key_from_jwk(SIGNER.jwks()["keys"][0])
PAYLOAD = SIGNER.qr_payload(
    code="YCXVK3-6BJGR4-A9FR5A", valid_on=date(2027, 1, 12), origin_station_id="008821006", holder_name="Lena Peeters"
)
PAYLOAD_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="


def test_the_payload_verifies_with_the_published_key_and_carries_the_voucher_facts():
    assert PAYLOAD.startswith("ATV1.")
    assert verify_qr_payload(PAYLOAD, PUBLISHED) == {
        "k": SIGNER.key_id,
        "c": "YCXVK3-6BJGR4-A9FR5A",
        "d": "2027-01-12",
        "o": "008821006",
        "h": "Lena Peeters",
    }


def test_the_published_key_set_names_the_key_the_payload_was_signed_with():
    [jwk] = SIGNER.jwks()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["kid"]) == ("OKP", "Ed25519", "EdDSA", SIGNER.key_id)
    assert "d" not in jwk  # the private part is never published


@given(st.data())
def test_any_changed_character_breaks_the_signature(data):
    position = data.draw(st.integers(0, len(PAYLOAD) - 1))
    replacement = data.draw(st.sampled_from(PAYLOAD_CHARACTERS.replace(PAYLOAD[position], "")))
    with pytest.raises(InvalidQrPayload):
        verify_qr_payload(PAYLOAD[:position] + replacement + PAYLOAD[position + 1 :], PUBLISHED)


@given(st.data())
def test_any_inserted_or_removed_character_breaks_the_signature(data):
    position = data.draw(st.integers(0, len(PAYLOAD) - 1))
    with pytest.raises(InvalidQrPayload):
        verify_qr_payload(PAYLOAD[:position] + PAYLOAD[position + 1 :], PUBLISHED)
    with pytest.raises(InvalidQrPayload):
        verify_qr_payload(
            PAYLOAD[:position] + data.draw(st.sampled_from(PAYLOAD_CHARACTERS)) + PAYLOAD[position:], PUBLISHED
        )


def test_facts_rewritten_under_the_old_signature_are_refused():
    prefix, facts, signature = PAYLOAD.split(".")
    changed = json.loads(base64.urlsafe_b64decode(facts + "=" * (-len(facts) % 4)))
    changed["h"] = "Someone Else"
    forged = base64.urlsafe_b64encode(json.dumps(changed, separators=(",", ":")).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidQrPayload):
        verify_qr_payload(f"{prefix}.{forged}.{signature}", PUBLISHED)


def test_a_payload_signed_with_another_key_is_refused():
    other = VoucherSigner(os.urandom(32))
    with pytest.raises(InvalidQrPayload):
        verify_qr_payload(
            other.qr_payload(
                code="YCXVK3-6BJGR4-A9FR5A",
                valid_on=date(2027, 1, 12),
                origin_station_id="008821006",
                holder_name="Lena Peeters",
            ),
            PUBLISHED,
        )


@pytest.mark.parametrize(
    ("signing_key", "conductor_token"),
    [
        (None, "a-conductor-token-16"),
        ("not base64!", "a-conductor-token-16"),
        (base64.b64encode(bytes(16)).decode(), "a-conductor-token-16"),  # too short a seed
        (base64.b64encode(bytes(32)).decode(), None),
        (base64.b64encode(bytes(32)).decode(), "short"),
    ],
    ids=["no-key", "key-not-base64", "key-of-16-bytes", "no-token", "token-too-short"],
)
def test_the_service_refuses_to_start_without_a_proper_signing_key_and_conductor_token(
    monkeypatch, signing_key, conductor_token
):
    monkeypatch.setenv("TICKETING_DATABASE_URL", "postgresql://nowhere/ticketing")
    for name, value in (("TICKETING_SIGNING_KEY", signing_key), ("TICKETING_CONDUCTOR_TOKEN", conductor_token)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert signing_key is None or signing_key not in str(refused.value)  # never echoes the secret
