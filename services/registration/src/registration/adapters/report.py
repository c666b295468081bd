"""Progress toward the yearly goal: distinct people trained, and how the seats were used."""

from __future__ import annotations

from typing import Any

import asyncpg

# A person is one email address; trained means checked in at least once.
_TRAINED_BY = """
SELECT {key} AS key, count(DISTINCT lower(r.email)) AS people
FROM registrations r JOIN sessions s ON s.id = r.session_id
WHERE r.attended_at IS NOT NULL GROUP BY 1 ORDER BY 1
"""
_DIMENSIONS = {
    "by_month": "to_char(s.starts_at AT TIME ZONE 'Europe/Brussels', 'YYYY-MM')",
    "by_profile": "r.profile",
    "by_topic": "CASE WHEN s.kind = 'coaching' THEN 'coaching' ELSE s.topic END",
    "by_language": "s.language",
}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


async def build_report(pool: asyncpg.Pool, target: int) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        trained = await conn.fetchval(
            "SELECT count(DISTINCT lower(email)) FROM registrations WHERE attended_at IS NOT NULL"
        )
        breakdowns = {
            name: [
                {"key": r["key"], "people_trained": r["people"]}
                for r in await conn.fetch(_TRAINED_BY.format(key=expression))
            ]
            for name, expression in _DIMENSIONS.items()
        }
        seats = await conn.fetchrow(
            "SELECT coalesce(sum(capacity), 0) AS offered, coalesce(sum(seats_taken), 0) AS filled"
            " FROM sessions WHERE status = 'scheduled'"
        )
        attendance = await conn.fetchrow(
            "SELECT count(*) AS expected, count(*) FILTER (WHERE r.attended_at IS NULL) AS no_shows"
            " FROM registrations r JOIN sessions s ON s.id = r.session_id"
            " WHERE r.status = 'confirmed' AND s.status = 'scheduled' AND s.ends_at < now()"
        )
        waitlist = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE waitlist_seq IS NOT NULL) AS ever_waitlisted,"
            " count(*) FILTER (WHERE status = 'waitlisted') AS waiting_now,"
            " count(*) FILTER (WHERE waitlist_seq IS NOT NULL AND status = 'confirmed') AS promoted"
            " FROM registrations"
        )
    return {
        "target": target,
        "people_trained": trained,
        "progress": _rate(trained, target),
        **breakdowns,
        "seats": {
            "offered": seats["offered"],
            "filled": seats["filled"],
            "fill_rate": _rate(seats["filled"], seats["offered"]),
        },
        "attendance": {
            "expected": attendance["expected"],
            "no_shows": attendance["no_shows"],
            "no_show_rate": _rate(attendance["no_shows"], attendance["expected"]),
        },
        "waitlist": dict(waitlist),
    }


def as_table(report: dict[str, Any]) -> str:
    """The report as aligned text for the terminal."""
    lines = [
        f"people trained   {report['people_trained']:>7} / {report['target']}  ({report['progress']:.1%})",
        f"seats filled     {report['seats']['filled']:>7} / {report['seats']['offered']}"
        f"  ({report['seats']['fill_rate']:.1%})",
        f"no-shows         {report['attendance']['no_shows']:>7} / {report['attendance']['expected']}"
        f"  ({report['attendance']['no_show_rate']:.1%})",
        f"waitlisted ever  {report['waitlist']['ever_waitlisted']:>7}  (promoted {report['waitlist']['promoted']},"
        f" waiting now {report['waitlist']['waiting_now']})",
    ]
    for name in _DIMENSIONS:
        lines.append("")
        lines.append(f"people trained {name.replace('_', ' ')}")
        lines += [f"  {row['key']:<20} {row['people_trained']:>7}" for row in report[name]] or ["  (none yet)"]
    return "\n".join(lines)
