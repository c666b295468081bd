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
