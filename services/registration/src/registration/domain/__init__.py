"""Rules of the programme that need no database."""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


class Refusal(StrEnum):
    """Why a registration or a cancellation is refused; values are stable API codes."""

    UNKNOWN_SESSION = "unknown_session"
    UNKNOWN_REGISTRATION = "unknown_registration"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_STARTED = "session_started"
    ALREADY_REGISTERED = "already_registered"


REFUSAL_TEXT = {
    Refusal.UNKNOWN_SESSION: "this session does not exist",
    Refusal.UNKNOWN_REGISTRATION: "this registration does not exist",
    Refusal.SESSION_CANCELLED: "this session was cancelled",
    Refusal.SESSION_STARTED: "this session has already started",
    Refusal.ALREADY_REGISTERED: "this email already holds a registration for this session or one at the same time",
}


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(REFUSAL_TEXT[reason])
        self.reason = reason


def coaching_titles(coach: str) -> dict[str, str]:
    return {
        "title_fr": f"Conseil personnalisé avec {coach}",
        "title_nl": f"Persoonlijk advies met {coach}",
        "title_en": f"1:1 advice with {coach}",
    }


def title_in(language: str, titles: dict[str, str]) -> str:
    return titles[f"title_{language}"]
