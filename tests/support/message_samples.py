"""Every kind of message with every variant its template branches on, its context built as the handlers
build it: what the template and email tests render and write out."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from atelier_devkit import notification_events as events
from notifications import contexts, kinds
from notifications.booking import Booking

from support.links import sealed_for_tests

BOOKING = Booking(
    code="R-7KQ2M9PX",
    title="SEO basics",
    starts_at=datetime(2027, 1, 12, 9, 0, tzinfo=UTC),  # 10:00 in Brussels (winter)
    ends_at=datetime(2027, 1, 12, 11, 0, tzinfo=UTC),
    room="Room 2",
    sealed_manage_url=sealed_for_tests("https://atelier.brussels/r/0b9d?token=k3J9"),
)
MOVED = replace(BOOKING, starts_at=BOOKING.starts_at + timedelta(days=1), room="Room 5", calendar_sequence=1)
ISSUED = events.ticket_issued(uuid.uuid4())
REISSUED = ISSUED.model_copy(update={"replaces": uuid.uuid4(), "reason": "session_moved"})


def voucher(ticket) -> dict:
    return {**contexts.ticket(ticket), "qr_cid": "qr.test@atelier.brussels"}


SAMPLES = {
    kinds.REGISTRATION_CONFIRMED: [contexts.seat(BOOKING), contexts.seat(replace(BOOKING, sealed_manage_url=None))],
    kinds.REGISTRATION_WAITLISTED: [contexts.waitlisted(BOOKING, 3)],
    kinds.REGISTRATION_PROMOTED: [contexts.seat(BOOKING)],
    kinds.REGISTRATION_CANCELLED: [
        contexts.cancelled(BOOKING, None, "confirmed"),
        contexts.cancelled(BOOKING, None, "waitlisted"),
    ],
    kinds.REGISTRATION_CANCELLED_BY_ORGANISER: [
        contexts.cancelled(BOOKING, "Trainer ill", "confirmed"),
        contexts.cancelled(BOOKING, None, "waitlisted"),
    ],
    kinds.SESSION_CHANGED: [contexts.session_changed(BOOKING, MOVED)],
    kinds.REMINDER: [contexts.seat(BOOKING), contexts.seat(replace(BOOKING, sealed_manage_url=None))],
    kinds.VOUCHER_ISSUED: [
        voucher(ISSUED),
        voucher(ISSUED.model_copy(update={"origin_name_fr": None, "origin_name_nl": None, "holder_name": None})),
    ],
    kinds.VOUCHER_REISSUED: [
        {**voucher(REISSUED), "replaced_code": "OLD"},
        {**voucher(REISSUED), "replaced_code": None},
    ],
    kinds.VOUCHER_REJECTED: [
        contexts.ticket(events.ticket_rejected(uuid.uuid4())),
        contexts.ticket(events.ticket_rejected(uuid.uuid4()).model_copy(update={"reason": "no_price"})),
    ],
    kinds.VOUCHER_VOIDED: [
        contexts.ticket(events.ticket_voided(ISSUED, "registration_cancelled")),
        contexts.ticket(events.ticket_voided(ISSUED, "session_cancelled")),
        contexts.ticket(events.ticket_voided(ISSUED, "fraud_suspected")),
    ],
}
