"""The session as an iCalendar entry (.ics) the participant's calendar can take in.

One entry per registration (stable UID); a session change sends it again with a higher
SEQUENCE, so calendars update the entry rather than add a second one.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

BRUSSELS = ZoneInfo("Europe/Brussels")
PRODID = "-//Atelier Brussels-Central//notifications//EN"


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
) -> bytes:
    event = Event()
    event.add("uid", calendar_uid(registration_id))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("summary", title)
    event.add("dtstart", starts_at.astimezone(BRUSSELS))
    event.add("dtend", ends_at.astimezone(BRUSSELS))
    event.add("location", location)
    event.add("status", "CONFIRMED")
    if url:
        event.add("url", url)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    # A VTIMEZONE for Europe/Brussels so any client reads local time right; the session's year is enough.
    calendar.add_missing_timezones(first_date=date(starts_at.year - 1, 1, 1), last_date=date(ends_at.year + 1, 12, 31))
    return calendar.to_ical()
