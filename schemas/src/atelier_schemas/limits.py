"""Limits on what a person types when registering, stated once for every way in (HTTP and commands).

The contract models stay tolerant readers: a `RegisterParticipant` beyond these limits still parses,
so its producer gets a `RegistrationRejected` (reason `invalid`) instead of a silent dead letter.
Every text that reaches an event is bounded here, so no event can outgrow what Kafka accepts.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints, ValidationError

NAME_MAX_LENGTH = 200
COMPANY_MAX_LENGTH = 200
PHONE_PATTERN = r"^\+?[0-9 ()./-]{6,40}$"
STATION_ID_PATTERN = r"^\d{9}$"
PROFILES = ("entrepreneur", "student", "job_seeker", "other")
# C0 and C1 control characters (line breaks and tabs included): none belongs in a name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


PersonName = Annotated[
    str, StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH), AfterValidator(no_control_characters)
]
Company = Annotated[str, StringConstraints(max_length=COMPANY_MAX_LENGTH), AfterValidator(no_control_characters)]
Phone = Annotated[str, StringConstraints(max_length=40, pattern=PHONE_PATTERN)]
StationId = Annotated[str, StringConstraints(pattern=STATION_ID_PATTERN)]


class Registrant(BaseModel):
    """The typed-in parts of a registration, within limits."""

    model_config = ConfigDict(extra="ignore")

    name: PersonName
    email: EmailStr
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
