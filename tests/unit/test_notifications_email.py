"""The email as it leaves: both parts, a calendar entry that calendars read right, a QR code that scans."""

from __future__ import annotations

import email
import email.policy
import io
import json
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
import zxingcpp
from aiosmtplib.email import flatten_message
from atelier_devkit import notification_events as events
from icalendar import Event
from notifications import contexts, kinds
from notifications.booking import Booking
from notifications.compose import build_email
from notifications.ics import session_entry
from notifications.outgoing import message_id_for
from notifications.qr import BORDER, MASK, SCALE, qr_png
from notifications.smtp import wire_bytes
from PIL import Image
from support.email_parts import calendar_entries, decode_qr, html_text, images, only_event, plain_text
from support.links import as_delivered, sealed_for_tests
from support.message_samples import SAMPLES

REGISTRATION = uuid.uuid4()
LINK = "https://atelier.brussels/r/0b9d#token=k3J9"
BOOKING = Booking(
    code="R-7KQ2M9PX",
    title="SEO basics",
    starts_at=datetime(2027, 3, 30, 8, 0, tzinfo=UTC),  # 10:00 in Brussels: summer time began on the 28th
    ends_at=datetime(2027, 3, 30, 10, 30, tzinfo=UTC),
    room="Room 2",
    sealed_manage_url=sealed_for_tests(LINK),
)


def built(kind: str, context: dict, *, language: str = "en", cause: str = "event-1", name: str = "Lena Peeters"):
    row = {
        "kind": kind,
        "message_id": message_id_for(cause, kind),
        "registration_id": REGISTRATION,
        "context": json.dumps(context),
        "created_at": datetime(2027, 1, 2, 12, tzinfo=UTC),
        "name": name,
        "email": "lena@example.be",
        "language": language,
    }
    return build_email(as_delivered(row), sender="Atelier <hello@atelier.brussels>")


def sent(kind: str, context: dict, *, language: str = "en", cause: str = "event-1"):
    """Build the email from a queued row, then read it back as the receiving server would."""
    return email.message_from_bytes(
        wire_bytes(built(kind, context, language=language, cause=cause)), policy=email.policy.default
    )


def test_the_confirmation_has_text_and_html_parts_and_headers_for_its_reader():
    message = sent(kinds.REGISTRATION_CONFIRMED, contexts.seat(BOOKING), language="nl")
    assert message["Message-ID"] == message_id_for("event-1", kinds.REGISTRATION_CONFIRMED)
    assert message["To"].addresses[0].addr_spec == "lena@example.be"
    assert message["Content-Language"] == "nl"
    assert message["Subject"] == "Inschrijving bevestigd: SEO basics"
    assert "R-7KQ2M9PX" in plain_text(message) and "R-7KQ2M9PX" in html_text(message)


def test_the_confirmation_carries_a_calendar_entry_at_the_right_time_in_brussels():
    [calendar] = calendar_entries(sent(kinds.REGISTRATION_CONFIRMED, contexts.seat(BOOKING)))
    event = only_event(calendar)
    assert event.decoded("dtstart") == BOOKING.starts_at and event.decoded("dtend") == BOOKING.ends_at
    assert str(event["dtstart"].params["TZID"]) == "Europe/Brussels"
    assert event.decoded("dtstart").replace(tzinfo=None) == datetime(2027, 3, 30, 10, 0)  # local wall time
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]
    assert str(event["uid"]) == f"{REGISTRATION}@atelier.brussels"
    assert "Room 2" in str(event["location"]) and "Brussels-Central" in str(event["location"])
    assert str(event["url"]) == LINK


def test_a_session_change_updates_the_same_calendar_entry_with_a_higher_sequence():
    moved = replace(BOOKING, starts_at=BOOKING.starts_at + timedelta(days=1), calendar_sequence=1)
    first = only_event(calendar_entries(sent(kinds.REGISTRATION_CONFIRMED, contexts.seat(BOOKING)))[0])
    changed = only_event(calendar_entries(sent(kinds.SESSION_CHANGED, contexts.session_changed(BOOKING, moved)))[0])
    assert changed["uid"] == first["uid"]
    assert changed.decoded("sequence") > first.decoded("sequence")
    assert changed.decoded("dtstart") == moved.starts_at


def test_two_participants_of_one_session_each_get_an_entry_of_their_own():
    """The session's lines are written once and shared; each participant's own lines are not."""
    others = [(uuid.uuid4(), f"https://atelier.brussels/r/{n}#token=t{n}", n) for n in range(2)]
    entries = []
    for registration_id, link, sequence in others:
        row = {
            "kind": kinds.REGISTRATION_CONFIRMED,
            "message_id": message_id_for(f"event-{sequence}", kinds.REGISTRATION_CONFIRMED),
            "registration_id": registration_id,
            "context": json.dumps(
                contexts.seat(replace(BOOKING, sealed_manage_url=sealed_for_tests(link), calendar_sequence=sequence))
            ),
            "created_at": datetime(2027, 1, 2, 12, sequence, tzinfo=UTC),
            "name": "Lena Peeters",
            "email": "lena@example.be",
            "language": "en",
        }
        raw = wire_bytes(build_email(as_delivered(row), sender="Atelier <hello@atelier.brussels>"))
        entries.append(only_event(calendar_entries(email.message_from_bytes(raw, policy=email.policy.default))[0]))
    for event, (registration_id, link, sequence) in zip(entries, others, strict=True):
        assert str(event["uid"]) == f"{registration_id}@atelier.brussels"
        assert str(event["url"]) == link
        assert event.decoded("sequence") == sequence
        assert event.decoded("dtstamp") == datetime(2027, 1, 2, 12, sequence, tzinfo=UTC)
        assert event.decoded("dtstart") == BOOKING.starts_at and str(event["summary"]) == BOOKING.title


@pytest.mark.parametrize(
    "url",
    [None, LINK, "https://atelier.brussels/r/" + "0b9d-" * 30 + "#token=k3J9;a,b", "https://atelier.brussels/r/é"],
)
def test_a_participants_own_calendar_lines_are_those_icalendar_writes(url):
    """Written line by line (see notifications.ics): the same as a whole icalendar event's, folded alike."""
    stamp = datetime(2027, 1, 2, 12, 3, 4, 567, tzinfo=UTC)
    reference = Event()
    for name, value in (("dtstamp", stamp), ("uid", f"{REGISTRATION}@atelier.brussels"), ("sequence", 3), ("url", url)):
        if value is not None:
            reference.add(name, value)
    expected = reference.to_ical().decode().removeprefix("BEGIN:VEVENT\r\n").removesuffix("END:VEVENT\r\n")
    entry = session_entry(
        registration_id=REGISTRATION,
        sequence=3,
        title=BOOKING.title,
        starts_at=BOOKING.starts_at,
        ends_at=BOOKING.ends_at,
        location="Room 2",
        url=url,
        stamp=stamp,
        organizer="hello@atelier.brussels",
    )
    event_lines = entry.split("BEGIN:VEVENT\r\n")[1]
    assert event_lines.startswith(expected)
    assert event_lines.removeprefix(expected).startswith("SUMMARY:SEO basics\r\n")


def test_messages_without_a_seat_carry_no_calendar_entry():
    assert calendar_entries(sent(kinds.REGISTRATION_WAITLISTED, contexts.waitlisted(BOOKING, 2))) == []
    assert calendar_entries(sent(kinds.REMINDER, contexts.seat(BOOKING))) == []


def test_the_voucher_qr_code_holds_the_signed_payload_and_the_html_shows_it():
    issued = events.ticket_issued(REGISTRATION)
    message = sent(kinds.VOUCHER_ISSUED, contexts.ticket(issued))
    [image] = images(message)
    assert image.get_content_type() == "image/png"
    assert decode_qr(image.get_content()) == [issued.qr_payload]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html_text(message)


def test_without_a_signed_payload_the_qr_code_holds_the_voucher_code():
    issued = events.ticket_issued(REGISTRATION, qr_payload=None)
    [image] = images(sent(kinds.VOUCHER_ISSUED, contexts.ticket(issued)))
    assert decode_qr(image.get_content()) == [issued.code]


def test_every_qr_code_has_error_correction_m_and_the_same_mask_pattern():
    """The mask is not searched for (see notifications.qr): eight payloads all coming out with pattern 2
    by the search would be a one-in-2,000 chance."""
    payloads = [f"ATV1.{secrets.token_urlsafe(160)}" for _ in range(8)]  # a signed payload's length
    symbols = [zxingcpp.read_barcode(Image.open(io.BytesIO(qr_png(payload)))) for payload in payloads]
    assert [(symbol.text, symbol.extra["ECLevel"], symbol.extra["DataMask"]) for symbol in symbols] == [
        (payload, "M", MASK) for payload in payloads
    ]


def test_the_qr_image_is_each_module_as_a_square_of_pixels_inside_a_light_quiet_zone():
    payload = f"ATV1.{secrets.token_urlsafe(160)}"
    modules = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=MASK)
    matrix = modules.to_image(scale=1, add_quiet_zones=False)
    size, dark_or_light = matrix.shape[0], memoryview(matrix).tobytes()  # a byte per module, row after row
    image = Image.open(io.BytesIO(qr_png(payload)))
    assert image.mode == "1" and image.size == ((size + 2 * BORDER) * SCALE,) * 2
    pixels = image.convert("L").load()
    side = image.size[0] // SCALE
    for y in range(side):
        for x in range(side):
            inside = BORDER <= x < side - BORDER and BORDER <= y < side - BORDER
            expected = dark_or_light[(y - BORDER) * size + x - BORDER] if inside else 255
            square = {pixels[x * SCALE + dx, y * SCALE + dy] for dx in range(SCALE) for dy in range(SCALE)}
            assert square == {expected}, (x, y)


def test_each_vouchers_qr_code_is_drawn_once_however_often_its_email_is_built(monkeypatch):
    drawn = []
    draw = zxingcpp.create_barcode

    def counted(payload, *args, **options):
        drawn.append(payload)
        return draw(payload, *args, **options)

    monkeypatch.setattr(zxingcpp, "create_barcode", counted)
    qr_png.cache_clear()
    issued, other = events.ticket_issued(REGISTRATION, qr_payload="ATV1.one"), events.ticket_issued(REGISTRATION)
    first, retried = (sent(kinds.VOUCHER_ISSUED, contexts.ticket(issued)) for _ in range(2))
    sent(kinds.VOUCHER_ISSUED, contexts.ticket(other))

    assert drawn == ["ATV1.one", other.qr_payload]
    assert [image.get_content() for image in images(retried)] == [image.get_content() for image in images(first)]


def test_the_message_id_is_stable_for_one_cause_and_differs_between_causes():
    assert message_id_for("e-1", "voucher_issued") == message_id_for("e-1", "voucher_issued")
    assert message_id_for("e-1", "voucher_issued") != message_id_for("e-2", "voucher_issued")
    assert message_id_for("e-1", "voucher_issued") != message_id_for("e-1", "registration_confirmed")


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
@pytest.mark.parametrize(
    "name", ["Lena Peeters", "Zoë Van den Bossche-D'Hondt", "Anne, Bob & Chloé " + "Verhoeven" * 8]
)
def test_the_bytes_on_the_wire_are_those_the_smtp_library_would_write(language, name):
    """Every kind, written part by part (see smtp.wire_bytes), is byte for byte what aiosmtplib would write."""
    assert set(SAMPLES) == set(kinds.ALL)  # a new kind is checked too
    for kind, samples in SAMPLES.items():
        for context in samples:
            message = built(kind, context, language=language, name=name)
            assert wire_bytes(message) == flatten_message(message, cte_type="7bit"), kind


def test_a_message_not_of_our_making_goes_out_as_the_email_package_writes_it():
    """Parts that are not base64, or a multipart with a preamble: the generator's bytes, not a guess."""
    plain = MIMEText("From the start\r\nline two\n", "plain", "us-ascii")
    base64_parts = [MIMEText("x", "plain", "utf-8"), MIMEText("<p>y</p>", "html", "utf-8")]
    with_preamble = MIMEMultipart("mixed", boundary="b1", _subparts=base64_parts)
    with_preamble.preamble = "This is a MIME message."
    for message in (plain, MIMEMultipart("mixed", boundary="b2", _subparts=[*base64_parts, plain]), with_preamble):
        assert wire_bytes(message) == flatten_message(message, cte_type="7bit")
    assert b"\n>From the start\n" in wire_bytes(plain)
