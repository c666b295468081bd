"""What a participant is told about their place in a session: the facts every seat's message carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Booking:
    """What a participant is told about their place in a session."""

    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    sealed_manage_url: str | None = None  # opened only to write the email (manage_links)
    calendar_sequence: int = 0

    def context(self) -> dict[str, Any]:
        """The facts as a message context (JSON)."""
        return {
            "code": self.code,
            "title": self.title,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "room": self.room,
            "sealed_manage_url": self.sealed_manage_url,
            "calendar_sequence": self.calendar_sequence,
        }

    @classmethod
    def from_contact(cls, row: Mapping[str, Any]) -> Booking:
        return cls(
            code=row["registration_code"],
            title=row["session_title"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            room=row["room"],
            sealed_manage_url=row["sealed_manage_url"],
            calendar_sequence=row["calendar_sequence"],
        )
