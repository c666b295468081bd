"""One queued message as the email that goes out: text and HTML parts, QR image, calendar entry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from . import kinds
from .centre import ADDRESS
from .ics import method, session_entry
from .qr import qr_png
from .rendering import render


def qr_content_id(message_id: str) -> str:
    """Unique per message, so a client that caches inline images never shows another voucher's code."""
    return f"qr.{message_id.strip('<>')}"


def build_email(row: Mapping[str, Any], *, sender: str) -> EmailMessage:
    """`row`: the message joined with its contact (kind, message_id, context, created_at, name, email, language)."""
    kind, language, message_id = row["kind"], row["language"], row["message_id"]
    context = json.loads(row["context"])
    if kind in kinds.WITH_QR:
        context["qr_cid"] = qr_content_id(message_id)
    rendered = render(kind, language, row["name"], context)

    email = EmailMessage()
    email["From"] = sender
    email["To"] = Address(display_name=row["name"], addr_spec=row["email"])
    set_subject(email, rendered.subject)
    email["Message-ID"] = message_id
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")

    if kind in kinds.WITH_QR:
        html_part = email.get_body(("html",))
        assert isinstance(html_part, EmailMessage)  # the alternative added above
        # Drawn from the signed payload when ticketing sent one, else from the code itself.
        png = qr_png(context.get("qr_payload") or context["code"])
        html_part.add_related(
            png, "image", "png", cid=f"<{context['qr_cid']}>", filename="voucher-qr.png", disposition="inline"
        )
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
        email.add_attachment(
            entry, subtype="calendar", charset="utf-8", filename="atelier.ics", params={"method": method(cancelled)}
        )
    # Last: turning the message into a multipart moves every Content-* header down into the first part.
    email["Content-Language"] = language
    return email


def set_subject(email: EmailMessage, subject: str) -> None:
    """A non-ASCII subject goes out as encoded words with its spaces inside them.

    The standard library's folder may put a space between two encoded words, where RFC 2047 says
    readers drop it ("en ligne :réseaux"); encoding the subject ourselves keeps every space, and
    the generator sends the pre-folded lines as they are."""
    if subject.isascii():
        email["Subject"] = subject
    else:
        email.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
