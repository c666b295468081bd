"""Registration's part of an erasure, on real Postgres: rows anonymised in place, counts kept, repeats answered."""

from __future__ import annotations

import json

from registration.service_layer import erasure, registrations
from support.programme import new_session, person, register_one


async def register(pool, session_id, who: dict) -> registrations.Registered:
    async with pool.acquire() as conn, conn.transaction():
        return await register_one(conn, session_id, registrations.NewRegistration(**who, phone="+32 470 99 88 77"))


async def erase(pool, email: str) -> erasure.Erasure:
    async with pool.acquire() as conn, conn.transaction():
        return await erasure.erase(conn, email)


async def test_a_person_registered_again_after_an_erasure_is_erased_again_and_stays_one_person(registration_pool):
    pool = registration_pool
    session = await new_session(pool)
    who = person("again")
    first = await register(pool, session["id"], who)
    earlier = await erase(pool, who["email"])
    second = await register(pool, session["id"], who)  # the address is free again, in the same session

    later = await erase(pool, who["email"])

    assert (earlier.registrations, later.registrations) == (1, 1) and later.erasure_id != earlier.erasure_id
    rows = await pool.fetch(
        "SELECT id, name, email, phone, status FROM registrations WHERE id = ANY($1::uuid[]) ORDER BY created_at",
        [first.registration_id, second.registration_id],
    )
    assert [(r["name"], r["phone"], r["status"]) for r in rows] == [("(erased)", None, "confirmed")] * 2
    assert all(r["email"].endswith("@erased.example") for r in rows)
    assert rows[0]["email"] != rows[1]["email"]  # two seats of one session cannot share an address
    assert (await erase(pool, who["email"].upper())).erasure_id == later.erasure_id  # nothing left: the same answer


async def test_the_person_s_events_still_to_be_published_carry_no_personal_data(fresh_registration_db):
    pool = fresh_registration_db  # no relay publishes from it
    session = await new_session(pool)
    who = person("outbox")
    registered = await register(pool, session["id"], who)
    await pool.execute("UPDATE outbox SET sent_at = NULL WHERE key = $1", str(registered.registration_id))

    done = await erase(pool, who["email"])

    [value] = [
        json.loads(row["value"])
        for row in await pool.fetch("SELECT value FROM outbox WHERE key = $1", str(registered.registration_id))
    ]
    assert value["participant"]["name"] == "(erased)" and value["participant"]["email"].endswith("@erased.example")
    assert value["manage_url"] is None
    [erased] = await pool.fetch("SELECT value FROM outbox WHERE key = $1", str(done.erasure_id))
    assert json.loads(erased["value"]) == {
        "erasure_id": str(done.erasure_id),
        "registration_ids": [str(registered.registration_id)],
    }
