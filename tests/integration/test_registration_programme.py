"""The sample programme and the organisers' report, on a database of their own."""

from __future__ import annotations

from datetime import date, timedelta

from registration.adapters.report import as_table, build_report
from registration.service_layer import registrations
from registration.service_layer.seed import seed_programme
from support.programme import new_session, person, register_one


async def test_the_sample_programme_is_four_weeks_of_weekdays_across_topics_languages_and_coaches(
    fresh_registration_db,
):
    async with fresh_registration_db.acquire() as conn, conn.transaction():
        created = await seed_programme(conn, first_day=date(2027, 3, 3))  # a Wednesday
        again = await seed_programme(conn)
    sessions = await fresh_registration_db.fetch("SELECT * FROM sessions ORDER BY starts_at")
    assert created == len(sessions) == 20 * (2 + 3) and again == 0
    days = {s["starts_at"].date() for s in sessions}
    assert min(days) == date(2027, 3, 8) and max(days) == date(2027, 3, 8) + timedelta(days=25)
    assert all(d.weekday() < 5 for d in days)
    workshops = [s for s in sessions if s["kind"] == "workshop"]
    coaching = [s for s in sessions if s["kind"] == "coaching"]
    assert {s["topic"] for s in workshops} == {
        "online_visibility",
        "social_media",
        "seo",
        "e_commerce",
        "digital_marketing",
    }
    assert {s["language"] for s in workshops} == {"fr", "nl", "en"}
    assert {s["capacity"] for s in coaching} == {1} and len({s["coach"] for s in coaching}) == 3
    scheduled = await fresh_registration_db.fetchval(
        "SELECT count(*) FROM outbox WHERE headers->>'ce_type' = 'be.atelier.catalog.session_scheduled.v1'"
    )
    assert scheduled == created


async def test_the_report_counts_distinct_people_trained_and_how_seats_were_used(fresh_registration_db):
    pool = fresh_registration_db
    first = await new_session(pool, capacity=2)
    second = await new_session(pool, capacity=2, starts=first["ends_at"] + timedelta(hours=1))
    regular, once, absent, waiting = person("regular"), person("once"), person("absent"), person("waiting")
    async with pool.acquire() as conn, conn.transaction():
        done = {}
        for who, session in [(regular, first), (once, first), (regular, second), (absent, second), (waiting, second)]:
            done[(who["email"], session["id"])] = await register_one(
                conn, session["id"], registrations.NewRegistration(**who, profile="student")
            )
        for who, session in [(regular, first), (once, first), (regular, second)]:
            await registrations.check_in(conn, done[(who["email"], session["id"])].code)

    # Time passes: the second session is over.
    await pool.execute(
        "UPDATE sessions SET starts_at = now() - interval '3 hours', ends_at = now() - interval '1 hour' WHERE id = $1",
        second["id"],
    )

    report = await build_report(pool, target=10_000)
    assert report["people_trained"] == 2  # regular came twice, absent never did
    assert report["progress"] == 0.0002
    assert report["by_profile"] == [{"key": "student", "people_trained": 2}]
    assert report["by_language"] == [{"key": "nl", "people_trained": 2}]
    assert report["seats"] == {"offered": 4, "filled": 4, "fill_rate": 1.0}
    assert report["attendance"] == {"expected": 2, "no_shows": 1, "no_show_rate": 0.5}
    assert report["waitlist"] == {"ever_waitlisted": 1, "waiting_now": 1, "promoted": 0}
    assert "people trained         2 / 10000" in as_table(report)
