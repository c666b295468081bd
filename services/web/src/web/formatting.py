"""Dates, times and session titles as a reader of each language expects them (Brussels time)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

BRUSSELS = ZoneInfo("Europe/Brussels")
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_GB"}


def local(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(BRUSSELS)


def day(value: str | datetime, language: str) -> str:
    """A moment's day in Brussels; a bare date (`2026-12-03`) as it is."""
    when = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else local(value)
    return format_date(when, "full", locale=LOCALES[language])


def time(value: str | datetime, language: str) -> str:
    return format_time(local(value), "HH:mm", locale=LOCALES[language])


def title(session: dict[str, Any], language: str) -> str:
    return str(session[f"title_{language}"])


def station_label(station: dict[str, Any], language: str) -> str:
    """One name in fr or nl; both in English unless they are the same."""
    if language in ("fr", "nl"):
        return str(station[f"name_{language}"])
    names = dict.fromkeys((station["name_fr"], station["name_nl"]))
    return " / ".join(names)


def is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
