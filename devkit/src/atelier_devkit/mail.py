"""Read what the SMTP server received."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path


def received_for(maildir: str, address: str) -> list[EmailMessage]:
    """Messages to `address`, in the order the server stored them."""
    files = sorted((Path(maildir) / "new").glob("*"), key=lambda f: f.stat().st_mtime_ns)
    raw = (f.read_bytes() for f in files)
    # Parse only what mentions the address: the maildir holds every email of the test session.
    messages = [email.message_from_bytes(r, policy=email.policy.default) for r in raw if address.encode() in r]
    return [m for m in messages if address in str(m["To"])]


async def wait_for_mail(maildir: str, address: str, count: int, timeout: float = 30) -> list[EmailMessage]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = received_for(maildir, address)
        if len(found) >= count or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.5)
