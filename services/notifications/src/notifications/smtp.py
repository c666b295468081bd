"""Talking to the SMTP server: one kept-open connection per sender, and what a failure means."""

from __future__ import annotations

import random
from email.message import EmailMessage

import aiosmtplib

from .config import Settings


class ServerUnavailable(Exception):
    """Connecting, STARTTLS or logging in failed: the server or our settings, never the message."""


class Mailer:
    """An SMTP connection opened on first use and kept for the next messages of a burst."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, email: EmailMessage) -> None:
        """Raises ServerUnavailable, or what aiosmtplib raises for this message."""
        client = self._client if self._client is not None and self._client.is_connected else await self._connect()
        try:
            await client.send_message(email)
        except Exception:
            # After a failure the session's state is unknown: the next message starts afresh.
            await self.close()
            raise

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            start_tls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=password,
            cert_bundle=settings.smtp_ca_file,
            timeout=settings.smtp_timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self._client = client
        return client

    def drop(self) -> None:
        """Close without a goodbye: for shutdown, when waiting on the server is not an option."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


# 5xx replies that refuse our session, not the message: authentication or TLS required, bad credentials.
# Fixing the settings lets the message through, so they are retried like an outage.
SESSION_REFUSED = frozenset({530, 534, 535, 538})


def is_permanent(error: Exception) -> bool:
    """A failure that retrying this message will not fix: a 5xx reply to it, or an address SMTP cannot carry.

    Connection trouble, timeouts and 4xx replies may pass; so may a server we cannot log in to.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code >= 500 and error.code not in SESSION_REFUSED
    # aiosmtplib raises these before sending for an address the server cannot take (e.g. non-ASCII, no SMTPUTF8).
    return isinstance(error, ValueError | aiosmtplib.SMTPNotSupported)


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Exponential backoff with jitter: base, 2×base, 4×base… capped, each scaled by 50–100 %."""
    return min(max_seconds, base_seconds * 2.0 ** (attempts - 1)) * random.uniform(0.5, 1.0)
