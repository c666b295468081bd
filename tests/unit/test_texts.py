"""Every message kind renders in every language, with the facts it must carry."""

from __future__ import annotations

import pytest
from notifications.handlers import message_id_for
from notifications.texts import BODIES, SUBJECTS, render

CONTEXTS = {
    "registration_confirmed": {
        "code": "R-ABCD2345",
        "title": "SEO",
        "room": "Room 2",
        "starts_at": "2027-01-12T09:00:00+00:00",
    },
    "voucher_issued": {"code": "YCXVK3-6BJGR4-A9FR5A", "valid_on": "2027-01-12", "price_eur": "9.60"},
}


@pytest.mark.parametrize("kind", sorted(SUBJECTS))
@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_each_kind_renders_in_each_language(kind, language):
    subject, body = render(kind, language, "Lena", CONTEXTS[kind])
    assert CONTEXTS[kind]["code"] in subject + body
    assert "Lena" in body


def test_the_session_time_is_shown_in_brussels_time():
    _, body = render("registration_confirmed", "en", "Lena", CONTEXTS["registration_confirmed"])
    assert "12/01/2027 10:00" in body  # 09:00 UTC is 10:00 in Brussels in winter


def test_subjects_and_bodies_cover_the_same_kinds_and_languages():
    assert {k: set(v) for k, v in SUBJECTS.items()} == {k: set(v) for k, v in BODIES.items()}


def test_the_message_id_is_stable_for_one_cause_and_differs_between_causes():
    assert message_id_for("e-1", "voucher_issued") == message_id_for("e-1", "voucher_issued")
    assert message_id_for("e-1", "voucher_issued") != message_id_for("e-2", "voucher_issued")
    assert message_id_for("e-1", "voucher_issued") != message_id_for("e-1", "registration_confirmed")
