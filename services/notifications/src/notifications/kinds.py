"""The messages a participant can get, and what each carries besides its text."""

REGISTRATION_CONFIRMED = "registration_confirmed"
REGISTRATION_WAITLISTED = "registration_waitlisted"
REGISTRATION_PROMOTED = "registration_promoted"
REGISTRATION_CANCELLED = "registration_cancelled"
REGISTRATION_CANCELLED_BY_ORGANISER = "registration_cancelled_by_organiser"
SESSION_CHANGED = "session_changed"
REMINDER = "reminder"
VOUCHER_ISSUED = "voucher_issued"
VOUCHER_REISSUED = "voucher_reissued"
VOUCHER_REJECTED = "voucher_rejected"
VOUCHER_VOIDED = "voucher_voided"

ALL = (
    REGISTRATION_CONFIRMED,
    REGISTRATION_WAITLISTED,
    REGISTRATION_PROMOTED,
    REGISTRATION_CANCELLED,
    REGISTRATION_CANCELLED_BY_ORGANISER,
    SESSION_CHANGED,
    REMINDER,
    VOUCHER_ISSUED,
    VOUCHER_REISSUED,
    VOUCHER_REJECTED,
    VOUCHER_VOIDED,
)

# A seat the participant holds: the message carries the session as an .ics calendar entry.
WITH_CALENDAR = frozenset({REGISTRATION_CONFIRMED, REGISTRATION_PROMOTED, SESSION_CHANGED})
# The end of a seat: the message carries a calendar cancellation (METHOD:CANCEL) of that entry.
WITH_CALENDAR_CANCEL = frozenset({REGISTRATION_CANCELLED, REGISTRATION_CANCELLED_BY_ORGANISER})
# The voucher's QR code travels inline in the HTML part.
WITH_QR = frozenset({VOUCHER_ISSUED, VOUCHER_REISSUED})
