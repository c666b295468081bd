"""What the HTTP routes need, as typed FastAPI dependencies. The bootstrap (`app.py`) fills one `Services` at start.

The dependencies are `async` although they do not wait: FastAPI runs a plain function in its thread
pool, a hand-off that cost more than the lookup on every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from atelier_platform.ratelimit import RateLimit
from fastapi import Depends, Request

from ..config import Settings
from ..service_layer.unit_of_work import UnitOfWork
from .intake import Intake


class RegistrationLimits:
    """The public door's limits, per client address and per email domain (each replica counts on its own)."""

    def __init__(self, settings: Settings) -> None:
        self.per_address = RateLimit(
            settings.address_burst, settings.address_per_minute, "too many registrations from this address; try later"
        )
        self.per_domain = RateLimit(
            settings.domain_burst, settings.domain_per_minute, "too many registrations for this email domain; try later"
        )


@dataclass
class Services:
    """The entrypoints' collaborators; all but the settings exist once the pool does (the lifespan)."""

    settings: Settings
    limits: RegistrationLimits
    uow: UnitOfWork | None = None
    intake: Intake | None = None

    def started_uow(self) -> UnitOfWork:
        assert self.uow is not None, "made in the lifespan, before the first request"
        return self.uow

    def started_intake(self) -> Intake:
        assert self.intake is not None, "made in the lifespan, before the first request"
        return self.intake


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def unit_of_work(request: Request) -> UnitOfWork:
    return services(request).started_uow()


async def intake(request: Request) -> Intake:
    return services(request).started_intake()


async def settings(request: Request) -> Settings:
    return services(request).settings


async def limits(request: Request) -> RegistrationLimits:
    return services(request).limits


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
IntakeDep = Annotated[Intake, Depends(intake)]
SettingsDep = Annotated[Settings, Depends(settings)]
LimitsDep = Annotated[RegistrationLimits, Depends(limits)]
