"""Addresses are taken only when every mail server can deliver them, and a punycode domain stays punycode."""

from __future__ import annotations

import pytest
from atelier_schemas import Participant
from atelier_schemas.limits import Registrant, registrant_problem


@pytest.mark.parametrize("email", ["lena@bücher.de", "lena@xn--bcher-kva.de"])
def test_at_the_door_an_international_domain_is_kept_in_its_ascii_form(email):
    assert Registrant(name="Lena", email=email).email == "lena@xn--bcher-kva.de"


def test_at_the_door_a_non_ascii_local_part_is_refused_without_repeating_it():
    problem = registrant_problem(name="Lena", email="léna@example.be")
    assert problem is not None and problem.startswith("email:") and "léna" not in problem


def test_an_event_never_rewrites_a_punycode_domain_into_unicode():
    participant = Participant(name="Lena", email="lena@xn--bcher-kva.de", language="nl")
    assert participant.email == "lena@xn--bcher-kva.de"


def test_an_event_still_reads_an_address_sent_before_the_rule():
    assert Participant(name="Léna", email="léna@example.be", language="fr").email == "léna@example.be"


def test_an_event_reads_an_address_the_same_whether_the_door_checked_it_before_or_not():
    """The answers are kept (one address is checked at each step of its registration): keeping them changes none."""
    email = "Lena.Unique-7f3a@Bücher.DE"
    read_first = Participant(name="Lena", email=email, language="nl").email
    assert Registrant(name="Lena", email=email).email == "Lena.Unique-7f3a@xn--bcher-kva.de"
    assert (
        Participant(name="Lena", email=email, language="nl").email == read_first == "Lena.Unique-7f3a@xn--bcher-kva.de"
    )
