"""HTTP API for the rail operator and for forms: vouchers, their scan, stations, the signing key."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal

from atelier_platform.http import bearer_token
from atelier_platform.ratelimit import client_address
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import clock, station_store, vouchers
from .codes import normalise
from .scanning import Verdict, scan
from .signing import VoucherSigner

router = APIRouter()


async def within_rate_limit(request: Request) -> None:
    """Against enumeration of codes: every lookup and scan spends a token of the client's address.

    Async on purpose: it runs on the event loop, never in FastAPI's thread pool, so the buckets
    need no lock."""
    request.app.state.lookup_limiter.spend(client_address(request, request.app.state.settings.proxies()))


require_conductor = bearer_token("conductor", "conductor_token")


def canonical_code(code: str) -> str:
    """Refused before any database look-up when the check character does not match."""
    canonical = normalise(code)
    if canonical is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a valid voucher code (check character does not match)")
    return canonical


class VoucherOut(BaseModel):
    code: str
    status: Literal["issued", "void", "used"]
    holder_name: str
    origin_station_id: str
    origin_name_fr: str | None
    origin_name_nl: str | None
    valid_on: date


class ScanOut(BaseModel):
    result: Verdict
    detail: str
    voucher: VoucherOut | None = None
    used_at: datetime | None = None


class StationOut(BaseModel):
    id: str
    name_fr: str
    name_nl: str


_SCAN_DETAILS: dict[Verdict, tuple[int, str]] = {
    "validated": (200, "valid today; now recorded as used"),
    "already_used": (409, "already used"),
    "void": (409, "void: the registration was cancelled"),
    "wrong_date": (409, "not valid today"),
    "unknown": (404, "no voucher with this code"),
}


@router.get(
    "/vouchers/{code}",
    response_model=VoucherOut,
    tags=["vouchers"],
    dependencies=[Depends(within_rate_limit)],
    responses={
        400: {"description": "Not a voucher code (check character wrong)"},
        404: {"description": "No such voucher"},
        429: {"description": "Too many look-ups from this address (see Retry-After)"},
    },
)
async def get_voucher(code: str, request: Request) -> Any:
    """Status, holder, origin and valid date of a voucher; nothing else about its holder."""
    voucher = await vouchers.by_code(request.app.state.runtime.pool, canonical_code(code))
    if voucher is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no voucher with this code")
    return VoucherOut.model_validate(dict(voucher))


class RegistrationVoucherOut(BaseModel):
    voucher: VoucherOut | None = None
    void_reason: str | None = None
    qr_payload: str | None = Field(default=None, description="What the voucher's QR code holds (signed), while issued")
    rejected_reason: vouchers.RejectionReason | None = None


@router.get(
    "/registrations/{registration_id}/voucher",
    response_model=RegistrationVoucherOut,
    tags=["vouchers"],
    responses={404: {"description": "Neither a voucher nor a refusal for this registration (yet)"}},
)
async def get_registration_voucher(registration_id: uuid.UUID, request: Request) -> Any:
    """For the participant's page: the voucher of a registration, with its QR payload, or why it has none.

    Not rate-limited per address: every participant comes through the web front-end's one address, and a
    random registration id (UUID4, 122 random bits) cannot be enumerated the way a short voucher code can."""
    voucher, rejected = await vouchers.of_registration(request.app.state.runtime.pool, registration_id)
    if voucher is None and rejected is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no voucher for this registration yet")
    if voucher is None:
        return RegistrationVoucherOut(rejected_reason=rejected)
    qr = None
    if voucher["status"] == "issued":
        qr = request.app.state.signer.qr_payload(
            code=voucher["code"],
            valid_on=voucher["valid_on"],
            origin_station_id=voucher["origin_station_id"],
            holder_name=voucher["holder_name"],
        )
    return RegistrationVoucherOut(
        voucher=VoucherOut.model_validate(dict(voucher)), void_reason=voucher["void_reason"], qr_payload=qr
    )


@router.post(
    "/vouchers/{code}/scan",
    response_model=ScanOut,
    tags=["vouchers"],
    dependencies=[Depends(within_rate_limit), Depends(require_conductor)],
    responses={
        400: {"description": "Not a voucher code (check character wrong)"},
        401: {"description": "No conductor token"},
        403: {"description": "Wrong conductor token"},
        404: {"model": ScanOut, "description": "No such voucher (result `unknown`)"},
        409: {"model": ScanOut, "description": "Refused: result `already_used`, `void` or `wrong_date`"},
        429: {"description": "Too many look-ups from this address (see Retry-After)"},
    },
)
async def scan_voucher(code: str, request: Request) -> Any:
    """A conductor scans a voucher: valid on its date, it is recorded as used (`TicketValidated`)."""
    app = request.app
    outcome = await scan(app.state.runtime.pool, canonical_code(code), clock.now())
    if outcome.verdict == "validated":
        app.state.runtime.relay.wake()
    status_code, detail = _SCAN_DETAILS[outcome.verdict]
    voucher = outcome.voucher
    body = ScanOut(
        result=outcome.verdict,
        detail=detail,
        voucher=None if voucher is None else VoucherOut.model_validate(dict(voucher)),
        used_at=None if voucher is None else voucher["used_at"],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code)


@router.get("/stations", response_model=list[StationOut], tags=["stations"])
async def search_stations(
    request: Request,
    q: Annotated[str, Query(max_length=100, description="Part of a French or Dutch name")] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Stations a voucher may start from, for autocompletion: accents and case do not matter."""
    found = await station_store.search(request.app.state.runtime.pool, q, limit)
    return [asdict(station) for station in found]


@router.get("/keys", tags=["vouchers"])
async def signing_keys(request: Request) -> dict[str, Any]:
    """The public key that verifies voucher QR payloads, as a JSON Web Key Set (Ed25519)."""
    signer: VoucherSigner = request.app.state.signer
    return signer.jwks()
