"""STARTTLS and credentials from settings, against an SMTP server that requires both."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib
import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from notifications.config import Settings
from notifications.smtp import Mailer, ServerUnavailable, is_permanent
from support.links import TEST_MANAGE_LINK_KEY

USER, PASSWORD = "atelier", "s3cret-for-tests"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 or 535 itself


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def strict_smtp(ca):
    """Refuses mail before STARTTLS, and before logging in over TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with RecordingSmtpServer(
        free_port(),
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticate,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def settings(port: int, **smtp) -> Settings:
    return Settings(
        database_url="unused",
        admin_token="t" * 16,
        manage_link_key=TEST_MANAGE_LINK_KEY,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        **smtp,
    )


def note(to: str) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = "hello@atelier.brussels", to, "STARTTLS check"
    email.set_content("hello")
    return email


async def test_starttls_and_login_from_settings_get_the_message_through(strict_smtp, ca_file):
    mailer = Mailer(
        settings(strict_smtp.port, SMTP_STARTTLS=True, SMTP_USERNAME=USER, SMTP_PASSWORD=PASSWORD, SMTP_CA_FILE=ca_file)
    )
    try:
        await mailer.send(note("tls@example.be"), "tls@example.be")
    finally:
        await mailer.close()
    assert [str(m["To"]) for m in strict_smtp.to("tls@example.be")] == ["tls@example.be"]


async def test_wrong_credentials_are_a_transient_server_problem_not_the_messages(strict_smtp, ca_file):
    mailer = Mailer(
        settings(strict_smtp.port, SMTP_STARTTLS=True, SMTP_USERNAME=USER, SMTP_PASSWORD="wrong", SMTP_CA_FILE=ca_file)
    )
    with pytest.raises(ServerUnavailable) as refused:
        await mailer.send(note("wrong-password@example.be"), "wrong-password@example.be")
    assert "535" in str(refused.value) and not is_permanent(refused.value)


async def test_a_server_that_demands_starttls_we_did_not_do_is_retried_not_failed(strict_smtp):
    mailer = Mailer(settings(strict_smtp.port))
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await mailer.send(note("plain@example.be"), "plain@example.be")
    assert refused.value.code == 530 and not is_permanent(refused.value)
    assert strict_smtp.to("plain@example.be") == []
