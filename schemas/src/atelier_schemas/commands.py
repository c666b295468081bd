"""Commands on `registration.commands`: other services register and cancel through Kafka."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter, ValidationInfo, WithJsonSchema, model_validator

from .base import _PRODUCING, Contract, Message, _name_type_and_topic, example_of
from .limits import Company, Email, PersonName, Phone, StationId, registrant_problem
from .registration import Participant
from .topics import REGISTRATION_COMMANDS
from .vocabulary import PROFILES, Language

# The purpose a cancellation's proof is sealed for (atelier_platform.sealed): only registration opens it.
CANCEL_PROOF_PURPOSE = "cancel-proof"


class RegisterParticipant(Message):
    """Register someone for a session. The outcome is a registration event (or a rejection)."""

    TYPE = "be.atelier.registration.register_participant.v1"
    TOPIC = REGISTRATION_COMMANDS

    command_id: UUID = Field(
        description="Unique per command; sending it again has no further effect.",
        examples=["5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"],
    )
    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    participant: Participant = Field(description="Who registers.", examples=[example_of(Participant)])
    phone: str | None = Field(default=None, description="Phone number, optional.", examples=["+32 470 12 34 56"])
    profile: str = Field(
        default="other", description="entrepreneur, student, job_seeker or other.", examples=["entrepreneur"]
    )
    company: str | None = Field(default=None, description="Company, optional.", examples=["Peeters Bakery"])
    consent_to_contact: bool = Field(default=False, description="May we write about other events?", examples=[True])
    wants_voucher: bool = Field(default=False, description="Ask for the train voucher.", examples=[True])
    origin_station_id: str | None = Field(
        default=None, description="NMBS/SNCB id of the origin station.", examples=["008821006"]
    )

    def key(self) -> str:
        return str(self.command_id)


class CancelRegistration(Message):
    """Cancel a registration on the participant's behalf."""

    TYPE = "be.atelier.registration.cancel_registration.v1"
    TOPIC = REGISTRATION_COMMANDS

    command_id: UUID = Field(description="Unique per command.", examples=["7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"])
    registration_id: UUID = Field(
        description="The registration to cancel.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    proof: str | None = Field(
        default=None,
        description="The participant's manage token sealed for registration alone: an X25519 sealed box for"
        " registration's public key, purpose `cancel-proof`. Required: a command without it, or whose token does"
        " not open this registration, is rejected (RegistrationRejected, reason `invalid`).",
        examples=["Vb7n1Xg2p9Qk4Lr0Tz6c8Ya3Mw5Hd1Fs7Jq2Ke9Uo4Ix6Nb0Gv3Pa8Ry5Ct1Zm7Lw2Ds4Fh9Jk0Qe6"],
    )

    def key(self) -> str:
        return str(self.registration_id)


def documented(limited: Any) -> Any:
    """A text the JSON Schema states the limits of, which a reader still takes beyond them.

    Registration then refuses it with a RegistrationRejected instead of a silent dead letter; a producer
    building the model by keyword is held to the limits (`RegisterParticipantV2`)."""
    return Annotated[str, WithJsonSchema(TypeAdapter(limited).json_schema())]


def _limits_and_voucher_rule(schema: dict[str, Any], model: type[Any]) -> None:
    _name_type_and_topic(schema, model)
    schema["if"] = {"properties": {"wants_voucher": {"const": True}}, "required": ["wants_voucher"]}
    schema["then"] = {"required": ["origin_station_id"], "properties": {"origin_station_id": {"type": "string"}}}


class NewParticipant(Contract):
    name: documented(PersonName) = Field(  # type: ignore[valid-type]
        description="Full name: one line, no control character.", examples=["Lena Peeters"]
    )
    email: documented(Email) = Field(  # type: ignore[valid-type]
        description="Where every message goes; ASCII before the @.", examples=["lena@example.be"]
    )
    language: Language = Field(description="Language of every message to them.", examples=["nl"])


class RegisterParticipantV2(Message):
    """Register someone for a session, with the limits of the registration form stated in the schema.

    The same command as v1; registration takes both. The limits are checked for every version: a
    command beyond them gets a RegistrationRejected (reason `invalid`)."""

    TYPE = "be.atelier.registration.register_participant.v2"
    TOPIC = REGISTRATION_COMMANDS
    model_config = {"json_schema_extra": _limits_and_voucher_rule}

    command_id: UUID = Field(
        description="Unique per command; sending it again has no further effect.",
        examples=["5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"],
    )
    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    participant: NewParticipant = Field(description="Who registers.", examples=[example_of(NewParticipant)])
    phone: documented(Phone) | None = Field(  # type: ignore[valid-type]
        default=None, description="Phone number, optional.", examples=["+32 470 12 34 56"]
    )
    profile: documented(Literal[PROFILES]) = Field(  # type: ignore[valid-type]
        default="other", description="Who they are, for the yearly report.", examples=["entrepreneur"]
    )
    company: documented(Company) | None = Field(  # type: ignore[valid-type]
        default=None, description="Company, optional.", examples=["Peeters Bakery"]
    )
    consent_to_contact: bool = Field(default=False, description="May we write about other events?", examples=[True])
    wants_voucher: bool = Field(
        default=False, description="Ask for the train voucher; then origin_station_id is required.", examples=[True]
    )
    origin_station_id: documented(StationId) | None = Field(  # type: ignore[valid-type]
        default=None, description="NMBS/SNCB id of the origin station (9 digits).", examples=["008821006"]
    )

    @model_validator(mode="after")
    def _within_limits_when_producing(self, info: ValidationInfo) -> RegisterParticipantV2:
        problem = register_participant_problem(self) if info.context is _PRODUCING else None
        if problem:
            raise ValueError(problem)
        return self

    def key(self) -> str:
        return str(self.command_id)


def register_participant_problem(command: RegisterParticipant | RegisterParticipantV2) -> str | None:
    """Why a registration command breaks the limits, in words that never repeat its input; None when it keeps them."""
    problem = registrant_problem(
        name=command.participant.name,
        email=str(command.participant.email),
        phone=command.phone,
        company=command.company,
        origin_station_id=command.origin_station_id,
    )
    if problem:
        return problem
    if command.profile not in PROFILES:
        return f"profile must be one of {', '.join(PROFILES)}"
    if command.wants_voucher and not command.origin_station_id:
        return "origin_station_id is required when wants_voucher is true"
    return None
