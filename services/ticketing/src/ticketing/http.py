"""HTTP API for the rail operator: what a voucher code stands for."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from .codes import normalise

router = APIRouter()


class VoucherOut(BaseModel):
    code: str
    status: Literal["issued", "void", "used"]
    holder_name: str
    origin_station_id: str
    valid_on: date


@router.get(
    "/vouchers/{code}",
    response_model=VoucherOut,
    tags=["vouchers"],
    responses={
        400: {"description": "Not a voucher code (check character wrong)"},
        404: {"description": "No such voucher"},
    },
)
async def get_voucher(code: str, request: Request) -> dict:
    canonical = normalise(code)
    if canonical is None:
        raise HTTPException(400, "not a valid voucher code (check character does not match)")
    row = await request.app.state.runtime.pool.fetchrow(
        "SELECT code, status, holder_name, origin_station_id, valid_on FROM vouchers WHERE code = $1",
        canonical,
    )
    if row is None:
        raise HTTPException(404, "no voucher with this code")
    return dict(row)
