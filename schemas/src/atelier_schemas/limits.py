"""Limits on what a person types when registering, stated once for every way in (HTTP and commands).

The contract models stay tolerant readers: a `RegisterParticipant` beyond these limits still parses,
so its producer gets a `RegistrationRejected` (reason `invalid`) instead of a silent dead letter.
Every text that reaches an event is bounded here, so no event can outgrow what Kafka accepts.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

NAME_MAX_LENGTH = 200
COMPANY_MAX_LENGTH = 200
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 5000
ROOM_MAX_LENGTH = 100
REASON_MAX_LENGTH = 500
PHONE_PATTERN = r"^\+?[0-9 ()./-]{6,40}$"
STATION_ID_PATTERN = r"^\d{9}$"
# One line of text: no C0 or C1 control character (NUL, line breaks and tabs included). A pattern rather
# than a validator, so the JSON Schemas carry the rule; a lone surrogate fails it too (it is no text).
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
# Several lines (a description): tabs and line breaks allowed, no other control character.
LINES_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def line(max_length: int, min_length: int = 0) -> StringConstraints:
    """One line of free text within `max_length` characters."""
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=LINE_PATTERN)


def lines(max_length: int, min_length: int = 0) -> StringConstraints:
    """Free text of several lines within `max_length` characters."""
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=LINES_PATTERN)


# Sessions are planned from a year back (corrections) to two years ahead; a date filter stays within this
# century. Outside, a typo (year 43 or 9983) or a probe, refused before any date arithmetic can overflow.
SESSION_WINDOW_BEHIND = timedelta(days=366)
SESSION_WINDOW_AHEAD = timedelta(days=2 * 366)
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def within_session_window(value: datetime) -> datetime:
    now = datetime.now(UTC)
    if not 2 <= value.year <= 9998 or not now - SESSION_WINDOW_BEHIND <= value <= now + SESSION_WINDOW_AHEAD:
        raise ValueError("must be within the past year and the next two years")
    return value


def within_century(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


# One address is checked at each step of its registration (the request or command, the event built from
# it): the last few thousand answers are kept, under a megabyte. A refused one is checked every time.
@functools.lru_cache(maxsize=4096)
def _email(value: str, *, smtputf8: bool) -> str:
    try:
        address = validate_email(value, check_deliverability=False, allow_smtputf8=smtputf8)
    except EmailNotValidError:
        raise ValueError("not an email address every mail server can take (ASCII before the @)") from None
    # The domain in its ASCII (punycode) form: a mail server without SMTPUTF8 takes no other.
    return address.ascii_email or address.normalized


def deliverable_email(value: str) -> str:
    """At the door: an ASCII local part, the domain as punycode."""
    return _email(value, smtputf8=False)


def email_as_sent(value: str) -> str:
    """Read from an event: any valid address, an ASCII domain never rewritten into Unicode. An address the door
    takes reads the same either way, and is most likely checked already."""
    try:
        return deliverable_email(value)
    except ValueError:
        return _email(value, smtputf8=True)


_EMAIL_SCHEMA = WithJsonSchema({"type": "string", "format": "email"})
Email = Annotated[str, AfterValidator(deliverable_email), _EMAIL_SCHEMA]
EventEmail = Annotated[str, AfterValidator(email_as_sent), _EMAIL_SCHEMA]
SessionTime = Annotated[AwareDatetime, AfterValidator(within_session_window)]
Day = Annotated[date, AfterValidator(within_century)]
PersonName = Annotated[str, line(NAME_MAX_LENGTH, min_length=1)]
Company = Annotated[str, line(COMPANY_MAX_LENGTH)]
Title = Annotated[str, line(TITLE_MAX_LENGTH, min_length=1)]
Description = Annotated[str, lines(DESCRIPTION_MAX_LENGTH, min_length=1)]
Room = Annotated[str, line(ROOM_MAX_LENGTH, min_length=1)]
Reason = Annotated[str, line(REASON_MAX_LENGTH, min_length=1)]
Phone = Annotated[str, StringConstraints(max_length=40, pattern=PHONE_PATTERN)]
StationId = Annotated[str, StringConstraints(pattern=STATION_ID_PATTERN)]


class Registrant(BaseModel):
    """The typed-in parts of a registration, within limits."""

    model_config = ConfigDict(extra="ignore")

    name: PersonName
    email: Email
    phone: Phone | None = None
    company: Company | None = None
    origin_station_id: StationId | None = None


def registrant_problem(**fields: object) -> str | None:
    """Why these fields break a limit, in words that never repeat the input; None when they keep them all."""
    try:
        Registrant.model_validate(fields)
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        return f"{field}: {first['msg']}"
    return None
