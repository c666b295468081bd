"""Talking to the SMTP server: a few kept-open connections, and what a failure means."""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
from collections.abc import AsyncIterator
from email._policybase import Compat32
from email.generator import BytesGenerator
from email.message import Message
from email.utils import parseaddr
from typing import Any

import aiosmtplib

from .config import Settings


class _Unfolded(Compat32):
    """compat32, except that a header short and plain enough to need no folding is written as it is:
    compat32 builds and encodes an email.header.Header for every header of every part, half the CPU of
    writing a message out. The bytes are the same."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return str(super()._fold(name, value, sanitize))  # type: ignore[misc]  # private in the stubs


UNFOLDED = _Unfolded()


def wire_bytes(email: Message) -> bytes:
    """The message as aiosmtplib would write it (compat32, 7-bit: every part of ours is base64).

    Ours (base64 leaves, in multiparts with a boundary and no preamble or epilogue) are written here:
    each header through the policy, each body as it is. The email package's generator asked every part
    for its content type again and again, and wrote each base64 body line by line. Any other message goes
    through the generator; the bytes are the same.
    """
    out = bytearray()
    try:
        _write(email, out)
    except _NotOurs:
        with io.BytesIO() as written:
            BytesGenerator(written, policy=UNFOLDED).flatten(email)
            return written.getvalue()
    return bytes(out)


class _NotOurs(Exception):
    """A part `_write` would not write as the generator does."""


def _write(part: Message, out: bytearray) -> None:
    for name, value in part.raw_items():
        out += UNFOLDED.fold_binary(name, value)
    out += b"\n"
    payload = part.get_payload()
    if isinstance(payload, list):
        boundary = part.get_boundary()
        if not payload or boundary is None or part.preamble is not None or part.epilogue is not None:
            raise _NotOurs
        delimiter = f"--{boundary}".encode("ascii")
        for n, subpart in enumerate(payload):
            out += (b"\n" if n else b"") + delimiter + b"\n"
            _write(subpart, out)
        out += b"\n" + delimiter + b"--\n"
    elif isinstance(payload, str) and payload.isascii() and part.get("Content-Transfer-Encoding") == "base64":
        out += payload.encode("ascii")
    else:
        raise _NotOurs


class ServerUnavailable(Exception):
    """Connecting, STARTTLS or logging in failed: the server or our settings, never the message."""


class Mailer:
    """An SMTP connection opened on first use and kept for the next messages, up to
    `smtp_messages_per_connection` of them (servers limit what one session may carry)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._sender = parseaddr(settings.mail_from)[1]
        self._client: aiosmtplib.SMTP | None = None
        self._sent = 0  # over the open connection

    async def send(self, email: Message, recipient: str) -> None:
        """Raises ServerUnavailable, or what aiosmtplib raises for this message."""
        if self._sent >= self._settings.smtp_messages_per_connection:
            await self.close()
        client = self._client if self._client is not None and self._client.is_connected else await self._connect()
        try:
            if not (self._sender + recipient).isascii():
                await client.send_message(email)  # aiosmtplib checks the server takes SMTPUTF8 first
            else:
                # The envelope is known: sendmail would parse both addresses out of the headers again
                # and rewrite every line ending twice (once to declare the size): a fifth of a send.
                await client.mail(self._sender)
                await client.rcpt(recipient)
                await client.data(wire_bytes(email))
        except Exception:
            # After a failure the session's state is unknown: the next message starts afresh.
            await self.close()
            raise
        self._sent += 1

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
        self._client, self._sent = client, 0
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


class MailerPool:
    """`smtp_connections` mailers; a message waits for a free one, so no more connections are ever open."""

    def __init__(self, settings: Settings) -> None:
        self._mailers = [Mailer(settings) for _ in range(settings.smtp_connections)]
        self._free: asyncio.Queue[Mailer] = asyncio.Queue()
        for mailer in self._mailers:
            self._free.put_nowait(mailer)
        self._idle_seconds = settings.smtp_idle_seconds
        self._last_used = 0.0  # loop time a mailer was last handed back

    @contextlib.asynccontextmanager
    async def mailer(self) -> AsyncIterator[Mailer]:
        mailer = await self._free.get()
        try:
            yield mailer
        finally:
            self._last_used = asyncio.get_running_loop().time()
            self._free.put_nowait(mailer)

    async def close_if_idle(self) -> None:
        """Say goodbye on every open connection once none was used for `smtp_idle_seconds`: a trickle of
        messages keeps its connections, and none is left for the server to time out."""
        if asyncio.get_running_loop().time() - self._last_used >= self._idle_seconds:
            await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(mailer.close() for mailer in self._mailers))

    def drop(self) -> None:
        for mailer in self._mailers:
            mailer.drop()


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
