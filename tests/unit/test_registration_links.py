"""Registration's links point where participants really are, and keep the manage token out of logs."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from atelier_platform.sealed import new_private_key_text, private_key, public_key_text
from pydantic import ValidationError
from registration.config import LOCAL_WEB_URL, Settings
from registration.service_layer.manage_links import manage_url

REQUIRED = {
    "REGISTRATION_DATABASE_URL": "postgresql://x@127.0.0.1/registration",
    "REGISTRATION_ADMIN_TOKEN": "t" * 16,
    "REGISTRATION_NOTIFICATIONS_PUBLIC_KEY": public_key_text(private_key(new_private_key_text())),
    "REGISTRATION_COMMAND_PROOF_KEY": new_private_key_text(),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("REGISTRATION_PUBLIC_URL", "ATELIER_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)


def test_outside_a_local_environment_registration_refuses_to_start_without_a_public_url(monkeypatch):
    monkeypatch.setenv("ATELIER_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="REGISTRATION_PUBLIC_URL is required"):
        Settings()


def test_the_public_url_set_by_the_stack_is_the_base_of_the_links(monkeypatch):
    monkeypatch.setenv("ATELIER_ENVIRONMENT", "production")
    monkeypatch.setenv("REGISTRATION_PUBLIC_URL", "https://atelier.brussels")
    assert Settings().public_url == "https://atelier.brussels"


def test_a_local_run_without_a_public_url_links_to_the_local_web_pages():
    assert Settings().public_url == LOCAL_WEB_URL


def test_the_manage_link_carries_its_token_in_the_fragment_which_browsers_never_send():
    registration_id = uuid.uuid4()
    link = manage_url("https://atelier.brussels/", registration_id, "s3cr3t", "nl")
    assert link == f"https://atelier.brussels/registrations/{registration_id}?lang=nl#token=s3cr3t"
    assert "s3cr3t" not in urlsplit(link).query and urlsplit(link).fragment == "token=s3cr3t"
