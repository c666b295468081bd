"""A realistic sample programme: four weeks of weekday sessions across topics and languages, plus coaching."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import cycle

import asyncpg
from atelier_schemas.vocabulary import LANGUAGES

from ..domain import BRUSSELS
from . import programme

WORKSHOPS = [
    programme.Workshop(
        topic="online_visibility",
        title_fr="Être visible en ligne",
        title_nl="Online zichtbaar worden",
        title_en="Getting visible online",
        description_fr="Site, fiche d'entreprise et avis : les bases pour qu'on vous trouve.",
        description_nl="Website, bedrijfsprofiel en reviews: de basis om gevonden te worden.",
        description_en="Website, business profile and reviews: the basics of being found.",
        duration_minutes=120,
    ),
    programme.Workshop(
        topic="social_media",
        title_fr="Gérer ses réseaux sociaux",
        title_nl="Sociale media beheren",
        title_en="Managing social media",
        description_fr="Planifier, publier et mesurer sur Instagram, Facebook et LinkedIn.",
        description_nl="Plannen, posten en meten op Instagram, Facebook en LinkedIn.",
        description_en="Plan, post and measure on Instagram, Facebook and LinkedIn.",
        duration_minutes=120,
    ),
    programme.Workshop(
        topic="seo",
        title_fr="Les bases du référencement",
        title_nl="De basis van zoekmachineoptimalisatie",
        title_en="SEO basics",
        description_fr="Mots-clés, contenu et technique pour remonter dans les moteurs de recherche.",
        description_nl="Zoekwoorden, inhoud en techniek om hoger te scoren in zoekmachines.",
        description_en="Keywords, content and technique to rank higher in search engines.",
        duration_minutes=150,
    ),
    programme.Workshop(
        topic="e_commerce",
        title_fr="Vendre en ligne",
        title_nl="Online verkopen",
        title_en="Selling online",
        description_fr="Boutique en ligne, paiements et livraisons pour une petite entreprise.",
        description_nl="Webshop, betalingen en leveringen voor een kleine onderneming.",
        description_en="Web shop, payments and delivery for a small business.",
        duration_minutes=150,
    ),
    programme.Workshop(
        topic="digital_marketing",
        title_fr="Marketing digital",
        title_nl="Digitale marketing",
        title_en="Digital marketing",
        description_fr="Newsletter, publicité en ligne et budget : une stratégie simple.",
        description_nl="Nieuwsbrief, online advertenties en budget: een eenvoudige strategie.",
        description_en="Newsletter, online ads and budget: a simple strategy.",
        duration_minutes=120,
    ),
]
COACHES = ["Sofie Claes", "Mehdi Benali", "Anne Dupont"]
SLOTS = [(time(10, 0), "Room 1"), (time(14, 0), "Room 2")]
COACHING_HOURS = [time(9, 0), time(13, 0), time(16, 30)]
WEEKS = 4


def weekdays_from(start: date, weeks: int) -> list[date]:
    days = (start + timedelta(days=n) for n in range(weeks * 7))
    return [d for d in days if d.weekday() < 5]


async def seed_programme(conn: asyncpg.Connection, first_day: date | None = None) -> int:
    """Create the sample programme unless it is there already; returns how many sessions were created."""
    if await conn.fetchval("SELECT true FROM workshops WHERE title_en = $1", WORKSHOPS[0].title_en):
        return 0
    workshops = [await programme.create_workshop(conn, w) for w in WORKSHOPS]
    today = first_day or datetime.now(BRUSSELS).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    rotation, languages, coaches = cycle(workshops), cycle(LANGUAGES), cycle(COACHES)
    created = 0
    for day in weekdays_from(next_monday, WEEKS):
        for start, room in SLOTS:
            workshop = next(rotation)
            starts = datetime.combine(day, start, BRUSSELS)
            plan = programme.SessionPlan(
                starts_at=starts,
                ends_at=starts + timedelta(minutes=workshop["duration_minutes"]),
                room=room,
                language=next(languages),
                capacity=25,
            )
            await programme.schedule_session(conn, workshop["id"], plan)
            created += 1
        for hour in COACHING_HOURS:
            starts = datetime.combine(day, hour, BRUSSELS)
            plan = programme.SessionPlan(
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                room="Coaching corner",
                language=next(languages),
                capacity=1,
            )
            await programme.schedule_coaching(conn, next(coaches), plan)
            created += 1
    return created
