"""One queued message as the email that goes out: text and HTML parts, QR image, calendar entry.

Built on the standard library's compat32 `Message`: the modern `EmailMessage` parses and refolds every
header it is given, which cost most of the CPU of a send. Every part is UTF-8 in base64, its headers
written as `MIMEText` and `MIMEImage` write them; the subject and a non-ASCII name are encoded words.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from . import kinds
from .centre import ADDRESS
from .ics import method, session_entry
from .qr import qr_png
from .rendering import render


def qr_content_id(message_id: str) -> str:
    """Unique per message, so a client that caches inline images never shows another voucher's code."""
    return f"qr.{message_id.strip('<>')}"


def build_email(row: Mapping[str, Any], *, sender: str) -> Message:
    """`row`: the message joined with its contact (kind, message_id, context, created_at, name, email, language)."""
    kind, language, message_id = row["kind"], row["language"], row["message_id"]
    context = json.loads(row["context"])
    if kind in kinds.WITH_QR:
        context["qr_cid"] = qr_content_id(message_id)
    rendered = render(kind, language, row["name"], context)

    html = _text("html", rendered.html)
    if kind in kinds.WITH_QR:
        # Drawn from the signed payload when ticketing sent one, else from the code itself.
        image = _base64("image/png", qr_png(context.get("qr_payload") or context["code"]))
        image["Content-ID"] = f"<{context['qr_cid']}>"
        image["Content-Disposition"] = 'inline; filename="voucher-qr.png"'
        html = _multipart("related", html, image)
    email = _multipart("alternative", _text("plain", rendered.text), html)
    if kind in kinds.WITH_CALENDAR or kind in kinds.WITH_CALENDAR_CANCEL:
        cancelled = kind in kinds.WITH_CALENDAR_CANCEL
        entry = session_entry(
            registration_id=row["registration_id"],
            # Higher than any entry sent before, so calendars apply the cancellation.
            sequence=context["calendar_sequence"] + (1 if cancelled else 0),
            title=context["title"],
            starts_at=datetime.fromisoformat(context["starts_at"]),
            ends_at=datetime.fromisoformat(context["ends_at"]),
            location=f"{context['room']}, {ADDRESS[language]}",
            url=context["manage_url"],
            stamp=row["created_at"],
            organizer=_address_of(sender),
            cancelled=cancelled,
        )
        calendar = _text("calendar", entry, method=method(cancelled))
        calendar["Content-Disposition"] = 'attachment; filename="atelier.ics"'
        email = _multipart("mixed", email, calendar)

    email["MIME-Version"] = "1.0"
    email["From"] = sender
    email["To"] = recipient(row["name"], row["email"])
    # A non-ASCII subject goes out as encoded words with its spaces inside them: the modern API's
    # folder may put a space between two encoded words, where RFC 2047 says readers drop it.
    if rendered.subject.isascii():
        email["Subject"] = rendered.subject
    else:  # compat32 folds a Header itself; the stubs know only str values
        email["Subject"] = _Subject(rendered.subject)  # type: ignore[assignment]
    email["Message-ID"] = message_id
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Auto-Submitted"] = "auto-generated"
    email["Content-Language"] = language
    return email


@functools.lru_cache(maxsize=8)
def _address_of(sender: str) -> str:
    """The address in the sender's header, parsed once: the same for every message."""
    return parseaddr(sender)[1]


class _Subject(Header):
    """A non-ASCII subject, encoded once per text: encoding one takes a quarter of a millisecond, and the
    confirmations of a session all have the same."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject, "utf-8", header_name="Subject")
        self._subject = subject

    def encode(self, splitchars: str = ";, \t", maxlinelen: int | None = None, linesep: str = "\n") -> str:
        return _encoded_subject(self._subject, splitchars, maxlinelen, linesep)


@functools.lru_cache(maxsize=1024)
def _encoded_subject(subject: str, splitchars: str, maxlinelen: int | None, linesep: str) -> str:
    return Header(subject, "utf-8", header_name="Subject").encode(splitchars, maxlinelen, linesep)


def recipient(name: str, address: str) -> str:
    """The To header: the name in encoded words when it is not ASCII, quoted when it holds specials."""
    if address.isascii():
        return formataddr((name, address), "utf-8")
    return str(Address(display_name=name, addr_spec=address))  # for a server with SMTPUTF8; others refuse it


# The headers are written out rather than through MIMEText, MIMEImage and MIMEMultipart: their charset
# and parameter handling parsed each Content-Type again for every change, a fifth of building an email.
# Parameter values here are tokens and plain file names, so quoting them is all they need.


def _multipart(subtype: str, *parts: Message) -> Message:
    # Our own short boundary: the header stays within 78 characters, and "=_" never occurs in base64.
    multipart = Message()
    multipart["Content-Type"] = f'multipart/{subtype}; boundary="=_{secrets.token_hex(12)}"'
    multipart.set_payload(list(parts))
    return multipart


def _text(subtype: str, text: str, **parameters: str) -> Message:
    """A text part in UTF-8."""
    extra = "".join(f'; {name}="{value}"' for name, value in parameters.items())
    return _base64(f'text/{subtype}; charset="utf-8"{extra}', text.encode())


def _base64(content_type: str, content: bytes) -> Message:
    """A part in base64, in lines of 76 characters, as the email package encodes it."""
    part = Message()
    part["Content-Type"] = content_type
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(content).decode("ascii"))
    return part
