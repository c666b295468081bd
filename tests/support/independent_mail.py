"""Read a raw email with a parser that shares no code with Python's `email` package (fast-mail-parser, in Rust).

What one parser gets right by the same mistake as our writer, a second one catches."""

from __future__ import annotations

from collections.abc import Iterator

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
