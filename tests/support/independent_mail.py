"""Read a raw email with a parser that shares no code with Python's `email` package (fast-mail-parser, in Rust).

What one parser gets right by the same mistake as our writer, a second one catches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import fast_mail_parser
import icalendar


def parse(raw: bytes) -> fast_mail_parser.PyMail:
    return fast_mail_parser.parse_email(raw, strict=True)


def parts(raw: bytes) -> list[fast_mail_parser.PyMimePart]:
    """Every leaf of the MIME tree."""

    def leaves(node: fast_mail_parser.PyMimePart) -> Iterator[fast_mail_parser.PyMimePart]:
        if node.children:
            for child in node.children:
                yield from leaves(child)
        else:
            yield node

    return list(leaves(fast_mail_parser.parse_email_tree(raw)))


def header(part: fast_mail_parser.PyMimePart, name: str) -> str:
    values = {key.lower(): value for key, value in part.headers.items()}.get(name.lower(), [""])
    return values[0] if isinstance(values, list) else values


def calendars(raw: bytes) -> list[tuple[str, icalendar.Calendar]]:
    """(Content-Type header, parsed calendar) of each text/calendar part."""
    return [
        (header(part, "Content-Type"), icalendar.Calendar.from_ical(bytes(part.content)))
        for part in parts(raw)
        if part.content_type.startswith("text/calendar")
    ]


async def wait_for_raw(maildir: str, address: str, subject_starts: str, timeout: float = 30) -> bytes:
    """The raw bytes of the first message to `address` whose subject starts so, as the SMTP server stored them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        files = sorted((Path(maildir) / "new").glob("*"), key=lambda f: f.stat().st_mtime_ns)
        for raw in (f.read_bytes() for f in files):
            if address.encode() in raw and parse(raw).subject.startswith(subject_starts):
                return raw
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no message '{subject_starts}…' to {address} within {timeout} s")
        await asyncio.sleep(0.3)
