"""Look inside a received email: its text, its calendar entry, its QR codes."""

from __future__ import annotations

import io
from email.message import EmailMessage

import icalendar
import zxingcpp
from PIL import Image


def plain_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def calendar_entries(message: EmailMessage) -> list[icalendar.Calendar]:
    return [
        icalendar.Calendar.from_ical(part.get_content())
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]


def only_event(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.walk("VEVENT")
    return event


def images(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_maintype() == "image"]


def decode_qr(png: bytes) -> list[str]:
    """What the QR codes in a PNG hold, read by an independent decoder (zxing-cpp)."""
    return [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
