"""Sealed boxes: only the recipient's key opens them, only for the purpose they were sealed for."""

from __future__ import annotations

import base64

import pytest
from atelier_platform import sealed


def test_only_the_recipient_key_opens_a_box_for_its_purpose():
    recipient = sealed.private_key(sealed.new_private_key_text())
    other = sealed.private_key(sealed.new_private_key_text())
    box = sealed.seal(recipient.public_key(), "manage-link", "https://atelier.brussels/r/1#token=s3cr3t")

    assert "s3cr3t" not in box
    assert sealed.open_box(recipient, "manage-link", box) == "https://atelier.brussels/r/1#token=s3cr3t"
    with pytest.raises(sealed.Unsealable):
        sealed.open_box(other, "manage-link", box)
    with pytest.raises(sealed.Unsealable):
        sealed.open_box(recipient, "cancel-proof", box)


def test_two_boxes_of_one_secret_differ():
    recipient = sealed.private_key(sealed.new_private_key_text())
    assert sealed.seal(recipient.public_key(), "p", "same") != sealed.seal(recipient.public_key(), "p", "same")


def ephemeral_key_of(box: str) -> bytes:
    return base64.urlsafe_b64decode(box + "=" * (-len(box) % 4))[: sealed.KEY_BYTES]


def test_a_sealer_keeps_its_ephemeral_key_for_a_while_with_a_nonce_per_box():
    recipient = sealed.private_key(sealed.new_private_key_text())
    now = [100.0]
    sealer = sealed.Sealer(recipient.public_key(), "p", reuse_seconds=60, clock=lambda: now[0])
    first, second = sealer.seal("same"), sealer.seal("same")
    now[0] += 60
    third = sealer.seal("same")

    assert ephemeral_key_of(first) == ephemeral_key_of(second) != ephemeral_key_of(third)
    assert len({first, second, third}) == 3
    assert [sealed.open_box(recipient, "p", box) for box in (first, second, third)] == ["same"] * 3
    with pytest.raises(sealed.Unsealable):
        sealed.open_box(recipient, "other purpose", second)


def test_boxes_sealed_together_are_opened_with_one_key_agreement_when_the_key_is_read_per_box():
    """As notifications does: the key read from its setting for each email, each box opened with it."""
    text = sealed.new_private_key_text()
    sealer = sealed.Sealer(sealed.private_key(text).public_key(), "p", reuse_seconds=60)
    boxes = [sealer.seal(f"link {n}") for n in range(5)]
    sealed._opening_aead.cache_clear()

    assert [sealed.open_box(sealed.private_key(text), "p", box) for box in boxes] == [f"link {n}" for n in range(5)]
    assert sealed._opening_aead.cache_info().misses == 1  # one key agreement for the five


@pytest.mark.parametrize("box", ["", "not a box!", "A" * 40, "A" * 5000])
def test_anything_else_is_unsealable(box):
    with pytest.raises(sealed.Unsealable):
        sealed.open_box(sealed.private_key(sealed.new_private_key_text()), "p", box)


def test_an_altered_box_is_unsealable():
    recipient = sealed.private_key(sealed.new_private_key_text())
    box = sealed.seal(recipient.public_key(), "p", "token")
    altered = box[:-2] + ("A" if box[-2] != "A" else "B") + box[-1]
    with pytest.raises(sealed.Unsealable):
        sealed.open_box(recipient, "p", altered)


@pytest.mark.parametrize("text", ["", "s3cr3t-key!", "AAAA"])
def test_a_key_that_is_not_32_bytes_of_base64_is_refused_without_echoing_it(text):
    with pytest.raises(ValueError) as refused:
        sealed.private_key(text)
    assert text not in str(refused.value) or not text
