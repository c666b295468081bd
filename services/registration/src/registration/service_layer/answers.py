"""What a request gets back: a status and a JSON-ready body, kept under its Idempotency-Key and rendered by HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..domain import REFUSAL_TEXT, Refusal

STATUS_OF_REFUSAL = {
    Refusal.UNKNOWN_SESSION: 404,
    Refusal.UNKNOWN_REGISTRATION: 404,
    Refusal.SESSION_CANCELLED: 409,
    Refusal.SESSION_STARTED: 409,
    Refusal.ALREADY_REGISTERED: 409,
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class Refusing(Exception):
    """Raised by an action that refuses its request: its transaction is undone, the answer is kept."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.body)
        self.answer = answer


def refused(refusal: Refusal) -> Answer:
    return Answer(STATUS_OF_REFUSAL[refusal], {"detail": REFUSAL_TEXT[refusal]})


class RegistrationOut(BaseModel):
    registration_id: uuid.UUID
    code: str
    session_id: uuid.UUID
    status: Literal["confirmed", "waitlisted", "cancelled"]
    waitlist_position: int | None = None


class RegisteredOut(RegistrationOut):
    manage_token: str = Field(description="Keep it: it lets the participant see and cancel this registration")
