"""The participant pages' own rules: which language a visitor reads, how the API's verdict is worded per field."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from web import texts
from web.api import Answer
from web.registration_form import FormInput, errors_from_api


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
    for code in texts.TOPICS:
        assert f"topic_{code}" in texts.WORDS["en"]


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


def test_without_a_voucher_no_station_is_sent_to_the_api():
    form = FormInput(name="Lena", email="lena@example.be", language="nl", origin_station_id="008863008")
    body = form.api_body()
    assert body["origin_station_id"] is None and body["phone"] is None and "station_query" not in body
