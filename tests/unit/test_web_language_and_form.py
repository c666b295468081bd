"""The participant pages' own rules: language, the API's verdict per field, the station typed, an outage."""

from __future__ import annotations

import httpx
import pytest
from atelier_schemas.vocabulary import PROFILES, TOPICS
from starlette.requests import Request
from web import texts
from web.api import Answer
from web.app import create_app
from web.config import Settings
from web.registration_form import FormInput, errors_from_api, resolve_station


def request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = [(b"cookie", cookie.encode()), (b"accept-language", accept.encode())]
    return Request({"type": "http", "query_string": query.encode(), "headers": headers})


@pytest.mark.parametrize(
    "query, cookie, accept, expected",
    [
        ("lang=nl", "lang=en", "fr-BE", "nl"),  # the link wins
        ("", "lang=en", "nl-BE,nl;q=0.9", "en"),  # then the remembered choice
        ("", "", "de-DE,de;q=0.9,nl;q=0.8,en;q=0.5", "nl"),  # then the best language the browser accepts
        ("lang=de", "", "en-GB", "en"),  # an unknown choice is ignored
        ("", "", "", "fr"),
    ],
)
def test_the_language_follows_the_link_then_the_cookie_then_the_browser(query, cookie, accept, expected):
    assert texts.language_of(request(query, cookie, accept)) == expected


def test_every_text_exists_in_the_three_languages():
    assert set(texts.WORDS["fr"]) == set(texts.WORDS["nl"]) == set(texts.WORDS["en"])
    for code in TOPICS:
        assert f"topic_{code}" in texts.WORDS["en"]
    for code in PROFILES:
        assert f"profile_{code}" in texts.WORDS["en"]


def test_the_apis_field_errors_are_shown_next_to_their_fields():
    answer = Answer(
        422,
        {
            "detail": [
                {"loc": ["body", "email"], "msg": "not an email", "type": "value_error"},
                {"loc": ["body", "phone"], "msg": "pattern", "type": "string_pattern_mismatch"},
                {"loc": ["body"], "msg": "origin_station_id is required", "type": "value_error"},
            ]
        },
    )
    assert errors_from_api(answer) == {"email": "err_email", "phone": "err_phone", "origin_station_id": "err_station"}


def test_a_refusal_of_the_whole_form_is_worded_for_the_participant():
    answer = Answer(409, {"detail": "this session was cancelled"})
    assert errors_from_api(answer) == {"form": "session_cancelled"}


def test_too_many_registrations_from_one_connection_or_domain_ask_to_try_again_later():
    answer = Answer(429, {"detail": "too many registrations from this address; try later"})
    assert errors_from_api(answer) == {"form": "too_many"}
    assert "too_many" in texts.WORDS["en"]  # and so in every language (the test above)


def test_without_a_voucher_no_station_is_sent_to_the_api():
    form = FormInput(name="Lena", email="lena@example.be", language="nl", origin_station_id="008863008")
    body = form.api_body()
    assert body["origin_station_id"] is None and body["phone"] is None and "station_query" not in body


class StationList:
    """Ticketing's station search, as the form sees it."""

    def __init__(self, *stations: tuple[str, str, str]) -> None:
        self.found = [{"id": i, "name_fr": fr, "name_nl": nl} for i, fr, nl in stations]

    async def stations(self, query: str) -> list[dict]:
        return self.found


async def test_without_the_script_a_typed_station_name_is_resolved_or_offered_as_choices():
    namur = StationList(("008863008", "Namur", "Namen"))
    form = FormInput(wants_voucher=True, station_query="namen")
    assert await resolve_station(namur, form, "fr") == ({}, []) and form.origin_station_id == "008863008"

    brussels = StationList(
        ("008813003", "Bruxelles-Central", "Brussel-Centraal"), ("008814001", "Bruxelles-Midi", "Brussel-Zuid")
    )
    errors, choices = await resolve_station(brussels, FormInput(wants_voucher=True, station_query="brussel"), "nl")
    assert errors == {"origin_station_id": "err_station"}
    assert [c["label"] for c in choices] == ["Brussel-Centraal", "Brussel-Zuid"]

    nowhere = FormInput(wants_voucher=True, station_query="Atlantis")
    errors, choices = await resolve_station(StationList(), nowhere, "en")
    assert errors == {"origin_station_id": "err_station_unknown"} and choices == []


async def test_when_registration_does_not_answer_the_page_says_so_with_a_503_never_a_500():
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    app = create_app(Settings(registration_url=closed, ticketing_url=closed))
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app)) as client:
        response = await client.get("http://web/?lang=en")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "unavailable for a moment" in response.text
