"""What the registration API accepts, before anything touches the database."""

from __future__ import annotations

import pytest
from atelier_schemas.limits import registrant_problem
from pydantic import ValidationError
from registration.entrypoints.admin_http import SessionIn
from registration.entrypoints.http import RegistrationIn

GOOD = {
    "name": "Lena",
    "email": "lena@example.be",
    "language": "nl",
    "wants_voucher": True,
    "origin_station_id": "008821006",
}


def test_a_complete_registration_is_accepted():
    assert RegistrationIn(**GOOD).origin_station_id == "008821006"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"language": "de"}, "language"),
        ({"name": ""}, "name"),
        ({"origin_station_id": "Brussels"}, "origin_station_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_fields_are_named_in_the_error(change, field):
    with pytest.raises(ValidationError) as error:
        RegistrationIn(**{**GOOD, **change})
    assert field in str(error.value)


def test_a_voucher_needs_an_origin_station():
    with pytest.raises(ValidationError, match="origin_station_id is required"):
        RegistrationIn(**{**GOOD, "origin_station_id": None})


def test_a_session_must_end_after_it_starts():
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        SessionIn(
            workshop_id="6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f",
            starts_at="2027-01-12T10:00:00+01:00",
            ends_at="2027-01-12T09:00:00+01:00",
            room="1",
            language="fr",
            capacity=5,
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Lena\nPeeters"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"company": "Bakery\x00"}, "company"),
        ({"company": "c" * 201}, "company"),
    ],
)
def test_names_and_companies_have_the_same_limits_over_http_and_in_commands(change, field):
    with pytest.raises(ValidationError) as error:
        RegistrationIn(**{**GOOD, **change})
    assert field in str(error.value)
    command_fields = {"name": GOOD["name"], "email": GOOD["email"], **change}
    assert registrant_problem(**command_fields).startswith(f"{field}:")


def test_a_registrant_within_the_limits_has_no_problem():
    assert registrant_problem(name="Émilie D'Hondt-Van Acker", email="e@example.be", company="Café 't Hoekske") is None
