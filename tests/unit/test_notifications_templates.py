"""Every message renders in every language from its template, with the facts it must carry."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import jinja2
import pytest
from atelier_schemas.vocabulary import LANGUAGES
from notifications import contexts, kinds
from notifications.centre import ADDRESS
from notifications.rendering import TEMPLATES, render, template_name
from support.links import opened
from support.message_samples import BOOKING, ISSUED, SAMPLES

GREETING = {"fr": "Bonjour Lena,", "nl": "Hallo Lena,", "en": "Hello Lena,"}
CASES = [(kind, n) for kind, samples in SAMPLES.items() for n in range(len(samples))]


def rendered(kind: str, language: str, sample: int = 0, name: str = "Lena"):
    stored = opened(json.loads(json.dumps(SAMPLES[kind][sample])))  # as it comes back from the database
    return render(kind, language, name, stored)


def test_every_kind_has_one_template_per_language_and_there_are_no_strays():
    expected = {template_name(kind, language) for kind in kinds.ALL for language in LANGUAGES}
    found = {str(path.relative_to(TEMPLATES)) for path in (TEMPLATES / "messages").glob("*.j2")}
    assert found == expected
    assert set(SAMPLES) == set(kinds.ALL)  # a new kind needs samples here too


@pytest.mark.parametrize(("kind", "sample"), CASES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_message_renders_completely_in_each_language(kind, sample, language):
    message = rendered(kind, language, sample)
    assert message.subject and "\n" not in message.subject
    assert message.text.startswith(GREETING[language])
    assert ADDRESS[language] in message.text
    assert f'<html lang="{language}">' in message.html and GREETING[language] in message.html
    for part in (message.subject, message.text, message.html):
        assert "{{" not in part and "{%" not in part


@pytest.mark.parametrize("kind", kinds.ALL)
def test_no_language_borrows_another_languages_subject_or_text(kind):
    by_language = [rendered(kind, language) for language in LANGUAGES]
    assert len({m.subject for m in by_language}) == len(LANGUAGES)
    assert len({m.text for m in by_language}) == len(LANGUAGES)


def test_a_template_fails_on_a_missing_fact_instead_of_sending_a_hole():
    incomplete = {k: v for k, v in contexts.seat(BOOKING).items() if k != "room"}
    with pytest.raises(jinja2.UndefinedError):
        render(kinds.REGISTRATION_CONFIRMED, "nl", "Lena", json.loads(json.dumps(incomplete)))


def test_a_language_without_templates_fails():
    with pytest.raises(jinja2.TemplateNotFound):
        render(kinds.REGISTRATION_CONFIRMED, "de", "Lena", contexts.seat(BOOKING))


def test_the_confirmation_shows_session_time_in_brussels_room_address_code_and_cancel_link():
    message = rendered(kinds.REGISTRATION_CONFIRMED, "en")
    assert message.subject == "Registration confirmed: SEO basics"
    for fact in (
        "Tuesday, 12 January 2027",
        "10:00 – 12:00",
        "Room 2",
        ADDRESS["en"],
        "R-7KQ2M9PX",
        "https://atelier.brussels/r/0b9d?token=k3J9",
    ):
        assert fact in message.text
        assert fact.replace("'", "&#39;") in message.html


def test_summer_sessions_are_shown_in_summer_time():
    summer = contexts.seat(
        replace(BOOKING, starts_at=datetime(2027, 7, 6, 8, tzinfo=UTC), ends_at=datetime(2027, 7, 6, 10, tzinfo=UTC))
    )
    message = render(kinds.REGISTRATION_CONFIRMED, "fr", "Lena", opened(json.loads(json.dumps(summer))))
    assert "mardi 6 juillet 2027" in message.text and "10:00 – 12:00" in message.text


def test_without_a_manage_link_the_participant_is_told_how_to_cancel():
    message = rendered(kinds.REGISTRATION_CONFIRMED, "nl", sample=1)
    assert "Beantwoord dan gewoon dit bericht" in message.text and "href" not in message.html.split("<p>Inschr")[1]


def test_subjects_other_services_rely_on_stay_as_they_are():
    assert rendered(kinds.REGISTRATION_CONFIRMED, "nl").subject.startswith("Inschrijving bevestigd")
    assert rendered(kinds.REGISTRATION_CONFIRMED, "en").subject.startswith("Registration confirmed:")
    assert rendered(kinds.VOUCHER_ISSUED, "en").subject == f"Your train voucher to Brussels-Central: {ISSUED.code}"


def test_waitlist_position_organiser_reason_and_session_change_are_spelled_out():
    assert "position 3" in rendered(kinds.REGISTRATION_WAITLISTED, "en").text
    assert "Raison : Trainer ill" in rendered(kinds.REGISTRATION_CANCELLED_BY_ORGANISER, "fr").text
    changed = rendered(kinds.SESSION_CHANGED, "nl").text
    assert "Eerst: dinsdag 12 januari 2027, 10:00 – 12:00, Room 2" in changed
    assert "woensdag 13 januari 2027" in changed and "Room 5" in changed


@pytest.mark.parametrize(
    ("language", "journey", "price"),
    [
        ("fr", "Bruxelles-Midi → Bruxelles-Central", "9,60\xa0€"),
        ("nl", "Brussel-Zuid → Brussel-Centraal", "€\xa09,60"),
        ("en", "Brussel-Zuid / Bruxelles-Midi → Brussels-Central", "€9.60"),
    ],
)
def test_the_voucher_shows_code_journey_day_and_price_in_the_readers_language(language, journey, price):
    message = rendered(kinds.VOUCHER_ISSUED, language)
    assert ISSUED.code in message.subject and ISSUED.code in message.text
    assert journey in message.text and price in message.text
    assert {"fr": "mardi 12 janvier 2027", "nl": "dinsdag 12 januari 2027", "en": "Tuesday, 12 January 2027"}[
        language
    ] in message.text
    assert 'src="cid:qr.test@atelier.brussels"' in message.html


def test_a_station_without_names_is_shown_by_its_id():
    assert "008814001 → Brussels-Central" in rendered(kinds.VOUCHER_ISSUED, "en", sample=1).text


def test_names_are_escaped_in_html_and_left_alone_in_text():
    message = rendered(kinds.REMINDER, "en", name="Anne <b>&</b> Bob")
    assert "Hello Anne <b>&</b> Bob," in message.text
    assert "Hello Anne &lt;b&gt;&amp;&lt;/b&gt; Bob," in message.html
