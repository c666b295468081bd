"""The anonymisation rules every service applies when a person is erased, and the retention settings' guard."""

from __future__ import annotations

import pytest
from atelier_platform.anonymise import ERASED_NAME, erased_email, scrub, scrub_text
from atelier_platform.retention import RetentionSettings
from atelier_schemas import RegistrationConfirmed, TicketIssued
from atelier_schemas.base import example_of
from pydantic import ValidationError

PERSON = {"Lena Peeters": ERASED_NAME, "lena@example.be": erased_email("abc123"), "+32 470 12 34 56": ""}


def test_a_personal_value_is_replaced_wherever_it_appears_whatever_its_case():
    context = {"greeting": "Dear LENA PEETERS,", "to": "Lena@Example.be", "nested": [{"phone": "+32 470 12 34 56"}]}

    assert scrub(context, PERSON) == {
        "greeting": f"Dear {ERASED_NAME},",
        "to": erased_email("abc123"),
        "nested": [{"phone": ""}],
    }


def test_bearer_links_and_signed_copies_of_the_person_are_dropped():
    scrubbed = scrub({"manage_url": "https://x/r/1#token=k3J9", "qr_payload": "ATV1.eyJoIjoiTGVuYSJ9.sig"}, PERSON)

    assert scrubbed == {"manage_url": None, "qr_payload": None}


def test_a_short_value_is_replaced_only_where_it_is_the_whole_text():
    scrubbed = scrub({"name": "Al", "room": "Salle 2", "id": "0b9d6f4e-5c1a-4e2b"}, {"Al": ERASED_NAME, "4e": "x"})

    assert scrubbed == {"name": ERASED_NAME, "room": "Salle 2", "id": "0b9d6f4e-5c1a-4e2b"}


def test_the_longest_value_wins_when_one_contains_another():
    assert scrub_text("Lena Peeters", {"Lena": "F", "Lena Peeters": "FULL"}) == "FULL"


def test_numbers_keys_and_other_people_are_left_alone():
    value = {"Lena Peeters": 3, "position": 2, "other": "Jan Janssens <jan@example.be>", "none": None}

    assert scrub(value, PERSON) == value


def test_scrubbed_events_still_keep_their_contract():
    confirmed = RegistrationConfirmed.model_validate(example_of(RegistrationConfirmed))
    issued = TicketIssued.model_validate(example_of(TicketIssued))
    person = {confirmed.participant.name: ERASED_NAME, confirmed.participant.email: erased_email("f00d")}

    again = RegistrationConfirmed.model_validate(scrub(confirmed.model_dump(mode="json"), person))
    ticket = TicketIssued.model_validate(scrub(issued.model_dump(mode="json"), person))

    assert (again.participant.name, again.participant.email, again.manage_url) == (
        ERASED_NAME,
        erased_email("f00d"),
        None,
    )
    assert (ticket.holder_name, ticket.qr_payload) == (ERASED_NAME, None)


def test_the_stand_in_address_is_one_per_reference_and_never_delivered():
    assert erased_email("abc") == erased_email("abc") != erased_email("abd")
    assert erased_email("abc").endswith("@erased.example")  # RFC 2606: no mail server answers for it


def test_inbox_rows_must_outlive_every_topic_and_dead_letter_topic(monkeypatch):
    assert RetentionSettings().inbox_days * 24 * 3600 * 1000 > 30 * 24 * 3600 * 1000

    monkeypatch.setenv("RETENTION_INBOX_DAYS", "20")  # shorter than the dead-letter topics' 30 days
    with pytest.raises(ValidationError, match="RETENTION_INBOX_DAYS"):
        RetentionSettings()

    monkeypatch.setenv("RETENTION_INBOX_DAYS", "60")
    monkeypatch.setenv("KAFKA_TOPIC_RETENTION_MS_BY_TOPIC", '{"registration.events": 7776000000}')  # 90 days
    with pytest.raises(ValidationError, match="90 days"):
        RetentionSettings()
