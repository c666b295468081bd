"""Events on `ticketing.events` (key: registration id)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from .base import Message
from .topics import TICKETING_EVENTS


class TicketIssued(Message):
    """A round-trip train voucher to Brussels-Central was issued."""

    TYPE = "be.atelier.ticketing.issued.v1"
    TOPIC = TICKETING_EVENTS

    voucher_id: UUID = Field(description="The voucher.", examples=["3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"])
    registration_id: UUID = Field(
        description="The registration it belongs to.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    code: str = Field(description="Voucher code, grouped for reading aloud.", examples=["YCXVK3-6BJGR4-A9FR5A"])
    valid_on: date = Field(description="The only day the voucher is valid.", examples=["2027-01-12"])
    origin_station_id: str = Field(description="NMBS/SNCB id of the origin station.", examples=["008821006"])
    price_eur: Decimal = Field(description="Price of the round trip in euro.", examples=["9.60"])
    holder_name: str | None = Field(default=None, description="Who may travel with it.", examples=["Lena Peeters"])
    origin_name_fr: str | None = Field(
        default=None, description="Origin station, French name.", examples=["Bruxelles-Midi"]
    )
    origin_name_nl: str | None = Field(
        default=None, description="Origin station, Dutch name.", examples=["Brussel-Zuid"]
    )
    qr_payload: str | None = Field(
        default=None,
        description="What the voucher's QR code holds: the voucher facts signed with Ed25519 (see GET /keys).",
        examples=["ATV1.eyJjIjoiWUNYVksz...In0.c2lnbmF0dXJl"],
    )
    replaces: UUID | None = Field(
        default=None,
        description="The voucher this one replaces (voided at the same time); none for a registration's first voucher.",
        examples=[None, "7e6d5c4b-3a29-4f18-8e7d-6c5b4a392817"],
    )
    reason: str | None = Field(
        default=None,
        description="Why a voucher was issued again, as a stable code: `session_moved` (its session moved to "
        "another day); none for a first voucher.",
        examples=[None, "session_moved"],
    )

    def key(self) -> str:
        return str(self.registration_id)


class TicketVoided(Message):
    """The voucher is no longer valid (its registration or session was cancelled, or its session moved)."""

    TYPE = "be.atelier.ticketing.voided.v1"
    TOPIC = TICKETING_EVENTS

    voucher_id: UUID = Field(description="The voucher.", examples=["3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"])
    registration_id: UUID = Field(
        description="The registration it belongs to.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    code: str = Field(description="Voucher code.", examples=["YCXVK3-6BJGR4-A9FR5A"])
    reason: str = Field(
        description="Why it was voided: `registration_cancelled`, `cancelled_by_organiser`, `session_cancelled`, "
        "`session_moved`.",
        examples=["registration_cancelled"],
    )
    replaced_by: UUID | None = Field(
        default=None,
        description="The voucher issued in its place (announced by its own TicketIssued), if any.",
        examples=[None, "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"],
    )

    def key(self) -> str:
        return str(self.registration_id)


class TicketRejected(Message):
    """No voucher could be issued for a registration that asked for one."""

    TYPE = "be.atelier.ticketing.rejected.v1"
    TOPIC = TICKETING_EVENTS

    registration_id: UUID = Field(
        description="The registration that asked for it.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    origin_station_id: str | None = Field(
        default=None, description="The origin station asked for.", examples=["009999999"]
    )
    reason: str = Field(description="Why, as a stable code.", examples=["unknown_station"])

    def key(self) -> str:
        return str(self.registration_id)


class TicketValidated(Message):
    """A conductor scanned the voucher on its valid day: it is now used."""

    TYPE = "be.atelier.ticketing.validated.v1"
    TOPIC = TICKETING_EVENTS

    voucher_id: UUID = Field(description="The voucher.", examples=["3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"])
    registration_id: UUID = Field(
        description="The registration it belongs to.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    code: str = Field(description="Voucher code.", examples=["YCXVK3-6BJGR4-A9FR5A"])
    validated_at: datetime = Field(description="When it was scanned.", examples=["2027-01-12T08:41:00+01:00"])

    def key(self) -> str:
        return str(self.registration_id)
