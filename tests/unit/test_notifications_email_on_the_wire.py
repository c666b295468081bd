"""The bytes our SMTP client sends, read by an independent parser: subjects, inline QR, charsets, calendar cancels."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiosmtplib.email import flatten_message
from aiosmtplib.protocol import normalize_message_line_endings
from atelier_devkit import notification_events as events
from notifications import contexts, kinds
from notifications.booking import Booking
from notifications.compose import build_email
from notifications.outgoing import message_id_for
from support import independent_mail
from support.email_parts import decode_qr
from support.links import as_delivered, sealed_for_tests

REGISTRATION = uuid.uuid4()
BOOKING = Booking(
    code="R-7KQ2M9PX",
    title="Être visible en ligne : réseaux sociaux, référencement et vente en ligne pour indépendants",
    starts_at=datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
    ends_at=datetime(2027, 3, 30, 10, 30, tzinfo=UTC),
    room="Salle 2",
    sealed_manage_url=sealed_for_tests("https://atelier.brussels/registrations/0b9d?lang=fr#token=k3J9"),
    calendar_sequence=1,
)


def on_the_wire(kind: str, context: dict, *, language: str = "fr") -> bytes:
    """What aiosmtplib hands the SMTP server for this message: flattened, then with the line endings of DATA."""
    row = {
        "kind": kind,
        "message_id": message_id_for("event-1", kind),
        "registration_id": REGISTRATION,
        "context": json.dumps(context),
        "created_at": datetime(2027, 1, 2, 12, tzinfo=UTC),
        "name": "Léa Dubois",
        "email": "lea@example.be",
        "language": language,
    }
    return normalize_message_line_endings(
        flatten_message(build_email(as_delivered(row), sender="Atelier <hello@atelier.brussels>"))
    )


@pytest.mark.parametrize("padding", range(0, 60, 3))
def test_a_long_french_subject_keeps_every_space_when_folded(padding):
    booking = replace(BOOKING, title=("x" * padding + " " if padding else "") + BOOKING.title)
    raw = on_the_wire(kinds.REGISTRATION_CONFIRMED, contexts.seat(booking))
    assert independent_mail.parse(raw).subject == f"Inscription confirmée : {booking.title}"
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))


def test_a_subject_shared_by_many_emails_goes_out_the_same_in_each():
    def subject_lines(raw: bytes) -> bytes:  # the Subject header with its folded continuation lines
        head = raw.split(b"\r\n\r\n", 1)[0]
        return head.split(b"\r\nSubject: ", 1)[1].split(b"\r\nMessage-ID: ", 1)[0]

    first, again = (on_the_wire(kinds.REGISTRATION_CONFIRMED, contexts.seat(BOOKING)) for _ in range(2))
    assert subject_lines(again) == subject_lines(first)
    assert b"\r\n " in subject_lines(again)  # encoded words over several lines
    assert independent_mail.parse(again).subject == f"Inscription confirmée : {BOOKING.title}"


def test_the_voucher_qr_image_is_inline_and_referenced_by_the_html():
    raw = on_the_wire(kinds.VOUCHER_ISSUED, contexts.ticket(events.ticket_issued(REGISTRATION)))
    [image] = [part for part in independent_mail.parts(raw) if part.content_type == "image/png"]
    assert image.disposition == "inline"
    [html] = independent_mail.parse(raw).text_html
    assert f"cid:{image.content_id.strip('<>')}" in html
    assert decode_qr(bytes(image.content)) == [events.ticket_issued(REGISTRATION).qr_payload]


@pytest.mark.parametrize(
    "kind, context",
    [
        (kinds.REGISTRATION_CONFIRMED, contexts.seat(BOOKING)),
        (kinds.REGISTRATION_CANCELLED, contexts.cancelled(BOOKING, None, "confirmed")),
        (kinds.VOUCHER_ISSUED, contexts.ticket(events.ticket_issued(REGISTRATION))),
    ],
)
def test_every_text_part_declares_its_charset(kind, context):
    text_parts = [p for p in independent_mail.parts(on_the_wire(kind, context)) if p.content_type.startswith("text/")]
    assert len(text_parts) >= 2
    for part in text_parts:
        assert 'charset="utf-8"' in independent_mail.header(part, "Content-Type"), part.content_type


@pytest.mark.parametrize("kind", [kinds.REGISTRATION_CANCELLED, kinds.REGISTRATION_CANCELLED_BY_ORGANISER])
@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_every_cancellation_cancels_the_calendar_entry_with_the_same_uid_and_a_higher_sequence(kind, language):
    [(_, confirmed)] = independent_mail.calendars(
        on_the_wire(kinds.REGISTRATION_CONFIRMED, contexts.seat(BOOKING), language=language)
    )
    raw = on_the_wire(kind, contexts.cancelled(BOOKING, "room flooded", "confirmed"), language=language)
    [(content_type, cancel)] = independent_mail.calendars(raw)
    assert 'method="CANCEL"' in content_type
    assert str(cancel["method"]) == "CANCEL"
    [booked], [removed] = confirmed.walk("VEVENT"), cancel.walk("VEVENT")
    assert removed["uid"] == booked["uid"] == f"{REGISTRATION}@atelier.brussels"
    assert removed.decoded("sequence") > booked.decoded("sequence")
    assert str(removed["status"]) == "CANCELLED"
    assert str(removed["organizer"]) == "mailto:hello@atelier.brussels"
    assert "atelier.ics" in independent_mail.parse(raw).text_plain[0]
