"""The session as a calendar file, with the same UID as the one in the emails, so calendars keep one entry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar, Event

from . import formatting, texts


def entry(registration_id: str, session: dict[str, Any], language: str, *, cancelled: bool) -> bytes:
    event = Event()
    event.add("uid", f"{registration_id}@atelier.brussels")
    event.add("dtstamp", datetime.now(UTC))
    event.add("summary", formatting.title(session, language))
    event.add("dtstart", formatting.local(session["starts_at"]))
    event.add("dtend", formatting.local(session["ends_at"]))
    event.add("location", f"{session['room']}, {texts.WORDS[language]['address']}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", "-//Atelier Brussels-Central//web//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
