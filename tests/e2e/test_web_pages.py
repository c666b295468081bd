"""The participant pages over HTTP, without a browser: a double submission, the token exchange, a wrong link."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from atelier_devkit.api import create_session

FORM = {"name": "Lena Peeters", "language": "nl", "profile": "student", "station_query": ""}


async def test_a_form_sent_twice_registers_once(services, infra, registration_db):
    async with httpx.AsyncClient(base_url=services["web"], timeout=20, trust_env=False) as web:
        session_id = await create_session(web, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        email = f"twice-{uuid.uuid4().hex[:8]}@example.be"
        form = {**FORM, "email": email, "idempotency_key": str(uuid.uuid4())}
        first, second = await asyncio.gather(
            web.post(f"/sessions/{session_id}/register", data=form),
            web.post(f"/sessions/{session_id}/register", data=form),
        )
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await registration_db.fetchval("SELECT count(*) FROM registrations WHERE email = $1", email) == 1


async def test_the_links_token_is_exchanged_once_for_a_cookie_of_this_registration_only(services, infra):
    async with httpx.AsyncClient(timeout=20, trust_env=False) as client:
        session_id = await create_session(client, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        registered = await client.post(
            f"{services['registration']}/sessions/{session_id}/registrations",
            json={"name": "Lena", "email": f"link-{uuid.uuid4().hex[:8]}@example.be", "language": "en"},
        )
    registration_id, token = registered.json()["registration_id"], registered.json()["manage_token"]
    page = f"/registrations/{registration_id}"
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    async with httpx.AsyncClient(base_url=services["web"], headers=english, timeout=20, trust_env=False) as browser:
        without = await browser.get(page)
        assert without.status_code == 200 and "data-token-exchange" in without.text and token not in without.text
        wrong = await browser.post(f"{page}/open", data={"token": "not-the-token"})
        assert wrong.status_code == 404 and "manage" not in browser.cookies
        opened = await browser.post(f"{page}/open", data={"token": token})
        assert opened.status_code == 303 and opened.headers["location"] == page
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and f"Path={page}" in cookie and "SameSite=lax" in cookie
        mine = await browser.get(page)
        assert mine.status_code == 200 and 'id="status"' in mine.text and "Registration confirmed" in mine.text
        calendar = await browser.get(f"{page}/calendar.ics")
        assert calendar.headers["content-type"] == "text/calendar; charset=utf-8"
        assert f"UID:{registration_id}@atelier.brussels" in calendar.text  # the same entry as the emails'
        other = await browser.get(f"/registrations/{uuid.uuid4()}")
        assert 'id="status"' not in other.text
