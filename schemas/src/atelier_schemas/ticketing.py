"""Events on `ticketing.events` (key: registration id)."""

from __future__ import annotations

from datetime import date
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

    def key(self) -> str:
        return str(self.registration_id)
