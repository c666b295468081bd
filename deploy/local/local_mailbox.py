"""The local SMTP server's mailbox as one page: `python deploy/local/local_mailbox.py [--name dev]` writes
.local/stacks/<name>/mailbox.html (newest first, links clickable) and prints its file:// address."""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import re
from pathlib import Path

STACKS = Path(__file__).resolve().parents[2] / ".local" / "stacks"
LINK = re.compile(r"https?://[^\s<>\"]+")


def plain_text(message: email.message.EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def with_links(text: str) -> str:
    escaped = html.escape(text)
    return LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


def write_mailbox(name: str) -> Path:
    stack = STACKS / name
    files = sorted((stack / "maildir" / "new").glob("*"), key=lambda f: f.stat().st_mtime_ns, reverse=True)
    items = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        attachments = [part.get_filename() for part in message.iter_attachments() if part.get_filename()]
        items.append(
            f"<article><h2>{html.escape(str(message['Subject']))}</h2>"
            f"<p>To: {html.escape(str(message['To']))} · {html.escape(str(message['Date']))}"
            f" · attachments: {html.escape(', '.join(attachments) or 'none')}"
            f' · <a href="{path.as_uri()}">raw</a></p>'
            f"<pre>{with_links(plain_text(message))}</pre></article>"
        )
    page = stack / "mailbox.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Atelier local mailbox</title>'
        "<style>body{font-family:sans-serif;max-width:50rem;margin:auto;padding:1rem}"
        "article{border-bottom:1px solid #ccc}pre{white-space:pre-wrap}</style></head><body>"
        f"<h1>Local mailbox of the '{name}' stack ({len(items)} messages)</h1>"
        "<p>Reload after running <code>make mailbox</code> again.</p>" + "".join(items) + "</body></html>"
    )
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="dev")
    print(write_mailbox(parser.parse_args().name).as_uri())


if __name__ == "__main__":
    main()
