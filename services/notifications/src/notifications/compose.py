"""One queued message as the email that goes out: text and HTML parts, QR image, calendar entry.

Built with the standard library's MIME classes (the compat32 API): the modern `EmailMessage` parses
and refolds every header it is given, which cost most of the CPU of a send. Every part is UTF-8
in base64; the subject and a non-ASCII name are encoded words.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
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

    html: Message = _part(MIMEText(rendered.html, "html", "utf-8"))
    if kind in kinds.WITH_QR:
        # Drawn from the signed payload when ticketing sent one, else from the code itself.
        image = _part(MIMEImage(qr_png(context.get("qr_payload") or context["code"]), "png"))
        image["Content-ID"] = f"<{context['qr_cid']}>"
        image.add_header("Content-Disposition", "inline", filename="voucher-qr.png")
        html = _part(_multipart("related", html, image))
    email = _multipart("alternative", _part(MIMEText(rendered.text, "plain", "utf-8")), html)
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
            organizer=parseaddr(sender)[1],
            cancelled=cancelled,
        )
        calendar = _part(MIMEText(entry, "calendar", "utf-8"))
        calendar.set_param("method", method(cancelled))
        calendar.add_header("Content-Disposition", "attachment", filename="atelier.ics")
        email = _multipart("mixed", _part(email), calendar)

    email["From"] = sender
    email["To"] = recipient(row["name"], row["email"])
    # A non-ASCII subject goes out as encoded words with its spaces inside them: the modern API's
    # folder may put a space between two encoded words, where RFC 2047 says readers drop it.
    if rendered.subject.isascii():
        email["Subject"] = rendered.subject
    else:  # compat32 folds a Header itself; the stubs know only str values
        email["Subject"] = Header(rendered.subject, "utf-8", header_name="Subject")  # type: ignore[assignment]
    email["Message-ID"] = message_id
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Auto-Submitted"] = "auto-generated"
    email["Content-Language"] = language
    return email


def recipient(name: str, address: str) -> str:
    """The To header: the name in encoded words when it is not ASCII, quoted when it holds specials."""
    if address.isascii():
        return formataddr((name, address), "utf-8")
    return str(Address(display_name=name, addr_spec=address))  # for a server with SMTPUTF8; others refuse it


def _multipart(subtype: str, *parts: Message) -> Message:
    # Our own short boundary: the header stays within 78 characters, and "=_" never occurs in base64.
    return MIMEMultipart(subtype, boundary=f"=_{secrets.token_hex(12)}", _subparts=parts)


def _part(part: Message) -> Message:
    """A part inside a multipart: MIME-Version belongs to the message alone."""
    del part["MIME-Version"]
    return part
