"""Time as the centre and the railway see it: dates are Brussels dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def now() -> datetime:
    return datetime.now(UTC)


def brussels_date(moment: datetime) -> date:
    return moment.astimezone(BRUSSELS).date()
