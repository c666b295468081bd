"""The session as an iCalendar entry (.ics) the participant's calendar can take in.

One entry per registration (stable UID); a session change sends it again with a higher
SEQUENCE, so calendars update the entry rather than add a second one; a cancellation sends it
with METHOD:CANCEL and a higher SEQUENCE still, so calendars remove it.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone
from icalendar.parser import foldline
from icalendar.prop import vDDDTypes, vInt, vText, vUri

BRUSSELS = ZoneInfo("Europe/Brussels")
PRODID = "-//Atelier Brussels-Central//notifications//EN"
_BEGIN = "BEGIN:VEVENT\r\n"


def calendar_uid(registration_id: uuid.UUID | str) -> str:
    return f"{registration_id}@atelier.brussels"


def session_entry(
    *,
    registration_id: uuid.UUID | str,
    sequence: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    url: str | None,
    stamp: datetime,
    organizer: str,
    cancelled: bool = False,
) -> str:
    # This participant's lines, in the order icalendar writes an event's; the session's are shared (see
    # session_calendar). Each is written by its value type and folded: a whole Event written out took
    # four fifths of the entry's CPU for these four lines.
    own: list[tuple[str, vDDDTypes | vText | vInt | vUri]] = [
        ("DTSTAMP", vDDDTypes(stamp)),
        ("UID", vText(calendar_uid(registration_id))),
        ("SEQUENCE", vInt(sequence)),
    ]
    if url:
        own.append(("URL", vUri(url)))
    lines = "".join(foldline(f"{name}:{value.to_ical().decode()}") + "\r\n" for name, value in own)
    before, after = session_calendar(title, starts_at, ends_at, location, organizer, cancelled)
    return before + lines + after


@functools.lru_cache(maxsize=1024)
def session_calendar(
    title: str, starts_at: datetime, ends_at: datetime, location: str, organizer: str, cancelled: bool
) -> tuple[str, str]:
    """The calendar around a participant's own lines (UID, SEQUENCE, DTSTAMP, URL): what comes before them
    and after them, the same for every participant of a session in a language. Written once per session,
    not once per email: writing out an entry's properties was three quarters of the entry's CPU."""
    event = Event()
    event.add("summary", title)
    event.add("dtstart", starts_at.astimezone(BRUSSELS))
    event.add("dtend", ends_at.astimezone(BRUSSELS))
    event.add("location", location)
    # iTIP (RFC 5546) wants an organiser on a CANCEL; clients match the entry by UID.
    event.add("organizer", f"mailto:{organizer}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method(cancelled))
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    # The VTIMEZONE lets any client read the local times right; the years around the session are enough.
    # It goes before the event, as add_component would put it, written once per span of years.
    time_zone = brussels_time_zone(starts_at.year - 1, ends_at.year + 1)
    before, after = ical.decode().split(_BEGIN)
    return before + time_zone + _BEGIN, after


def method(cancelled: bool) -> str:
    return "CANCEL" if cancelled else "PUBLISH"


@functools.lru_cache(maxsize=8)
def brussels_time_zone(first_year: int, last_year: int) -> str:
    """The VTIMEZONE, computed and written once per span of years: its transitions were most of the
    work of an entry, and writing them out most of what was left."""
    zone = Timezone.from_tzid("Europe/Brussels", first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31))
    written: bytes = zone.to_ical()
    return written.decode()
