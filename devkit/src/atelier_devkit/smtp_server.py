"""Real SMTP servers for the local stacks and the tests.

`RecordingSmtpServer`: one the test controls. It records what it accepts, can refuse addresses, and
can go away. aiosmtpd runs it in a thread of the test process, on a port that stays the same across
a stop and a start, so a client pointed at it sees an outage and then the server coming back.

`python -m atelier_devkit.smtp_server HOST:PORT MAILDIR`: the stacks' sink, every accepted email into
a Maildir (see `MaildirWriter`), on aiosmtpd with two of its costs cut (see `SinkSMTP`).
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import itertools
import os
import re
import socket
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import uvloop
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session

HOST = "127.0.0.1"


class _Recorder:
    def __init__(self, refused: set[str], busy: set[str], cut: set[str]) -> None:
        self.refused = refused
        self.busy = busy
        self.cut = cut
        self.accepted: list[tuple[float, bytes]] = []  # parsed on demand: the server thread stays quick
        self.peers: list[tuple[str, int]] = []  # the client's address and port, per accepted message
        self.closing = False
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address.lower() in self.cut:
            self.cut.discard(address.lower())
            server.transport.abort()  # the connection drops in the middle of the message, once
            return "250 OK"
        if address.lower() in self.refused:
            return "550 5.1.1 mailbox unavailable"
        if address.lower() in self.busy:
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            if self.closing:
                return "421 4.3.2 shutting down, try again later"
            self.accepted.append((time.monotonic(), envelope.content))
            self.peers.append(session.peer)
        return "250 OK"


class RecordingSmtpServer:
    def __init__(
        self,
        port: int,
        refused: tuple[str, ...] = (),
        busy: tuple[str, ...] = (),
        cut: tuple[str, ...] = (),
        **smtp_options: object,
    ) -> None:
        """`refused` addresses get a 550, `busy` ones a 450; the connection carrying the first message to
        a `cut` address is dropped at its recipient; `smtp_options` go to aiosmtpd's SMTP:
        tls_context, require_starttls, authenticator…"""
        self.port = port
        self._recorder = _Recorder(*({address.lower() for address in group} for group in (refused, busy, cut)))
        self._smtp_options = smtp_options
        self._controller: Controller | None = None
        self._parsed: list[EmailMessage] = []

    def start(self) -> None:
        # A stopped controller's loop is closed: every start gets a fresh one.
        self._recorder.closing = False
        self._controller = Controller(self._recorder, hostname=HOST, port=self.port, **self._smtp_options)
        self._controller.start()

    def stop(self) -> None:
        """Go away as a server does on a clean shutdown: finish the message in hand, refuse the next."""
        with self._recorder.lock:
            self._recorder.closing = True
        time.sleep(0.2)  # let a reply already written reach its client before connections are cut
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def accept(self, address: str) -> None:
        """From now on, take mail for this address (refused or busy until now)."""
        self._recorder.refused.discard(address.lower())
        self._recorder.busy.discard(address.lower())

    def __enter__(self) -> RecordingSmtpServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._recorder.lock:
            unparsed = [raw for _, raw in self._recorder.accepted[len(self._parsed) :]]
        self._parsed += [email.message_from_bytes(raw, policy=email.policy.default) for raw in unparsed]
        return list(self._parsed)

    @property
    def accepted_count(self) -> int:
        with self._recorder.lock:
            return len(self._recorder.accepted)

    def arrival_times(self) -> list[float]:
        """time.monotonic() of each accepted message, in order."""
        with self._recorder.lock:
            return [at for at, _ in self._recorder.accepted]

    def connections_of(self, address: str) -> collections.Counter[tuple[str, int]]:
        """How many of the messages accepted for `address` each client connection (address, port) carried."""
        messages = self.messages
        with self._recorder.lock:
            peers = self._recorder.peers[: len(messages)]
        return collections.Counter(
            peer for peer, message in zip(peers, messages, strict=True) if address in str(message["To"])
        )

    def count_by_message_id(self) -> collections.Counter[str]:
        return collections.Counter(str(m["Message-ID"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


class MaildirWriter:
    """aiosmtpd handler writing each accepted email, as it came, to `<maildir>/new/` (written in `tmp/` and
    renamed, as Maildir readers expect), with LF line ends as Python's `mailbox` writes them.

    aiosmtpd's own Mailbox handler parses every message into an `email.message.Message` and writes it
    out again: that was most of the sink's CPU, and the sink shares the machine with what it measures.
    """

    def __init__(self, maildir: Path) -> None:
        for folder in ("new", "tmp", "cur"):
            (maildir / folder).mkdir(parents=True, exist_ok=True)
        # Plain strings and os.rename: pathlib's objects were a third of writing a message out.
        self._new, self._tmp = f"{maildir}/new/", f"{maildir}/tmp/"
        self._names = (f"{time.time_ns()}.P{os.getpid()}Q{n}.{socket.gethostname()}" for n in itertools.count())

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self._store(content.replace(b"\r\n", b"\n"))
        return "250 OK"

    def _store(self, content: bytes) -> None:
        """In the event loop's thread: a few kilobytes to a local disk cost less than a hop to another."""
        name = next(self._names)
        with open(self._tmp + name, "xb") as file:
            file.write(content)
        os.rename(self._tmp + name, self._new + name)


END_OF_DATA = b"\r\n.\r\n"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
# "<local@domain>" with a dot-atom local part and a plain domain, then the command's parameters, as every
# client of the sink writes them; not followed by a comment, which aiosmtpd's parser would drop.
_PLAIN_ADDRESS = re.compile(rf"[ \t]*<({_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*+(?!\()(.*)", re.DOTALL)


class SinkSMTP(SMTP):
    """aiosmtpd's server without the two costs that were two thirds of the sink's CPU per email: the sink
    shares the machine with what `make bench` measures.

    DATA is read in whatever chunks arrive, up to the line holding a lone dot, instead of an await per
    line. The content is what aiosmtpd would hand over: CRLF line ends kept, a leading dot removed from
    each line (RFC 5321, 4.5.2). Unlike aiosmtpd, a sink has no reason to refuse a line over SMTP's
    1,000 characters, so it takes it.

    A plain `<local@domain>` in MAIL and RCPT is read by a pattern; aiosmtpd runs the email package's
    header parser (and makes a class) for every address, which stays for any other form.
    """

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = None if self.local_part_limit else _PLAIN_ADDRESS.match(arg)
        if plain is None:
            return super()._getaddr(arg)  # type: ignore[no-any-return]  # untyped in aiosmtpd
        return plain[1], plain[2]

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's name)
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        read = await self._read_data()
        if read is None:  # the connection closed before the end of the message
            return
        content, complete = read
        if complete:
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
        else:
            status = "552 Error: Too much mail data"
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> tuple[bytes, bool] | None:
        """The message up to its end mark with dots unstuffed, and whether it is whole: past the size limit
        only the last bytes are kept, enough to find the mark. None if the connection closed first."""
        data = bytearray(b"\r\n")  # the mark's first line end, for a message of no lines at all
        limit = self.data_size_limit or sys.maxsize
        searched, complete = 0, True
        while (end := data.find(END_OF_DATA, searched)) < 0:
            chunk = await self._reader.read(sys.maxsize)  # all that has arrived, so nothing is left behind it
            if not chunk:
                return None
            searched = max(0, len(data) - len(END_OF_DATA) + 1)
            data += chunk
            if len(data) > limit + len(END_OF_DATA):
                del data[: len(data) - len(END_OF_DATA)]
                searched, complete = 0, False
        if end + len(END_OF_DATA) < len(data):  # the client's next command, sent before our reply
            self._reader.feed_data(bytes(data[end + len(END_OF_DATA) :]))
        # The leading "\r\n" lets the first line lose its dot like every other.
        return bytes(data[: end + 2]).replace(b"\r\n.", b"\r\n")[2:], complete


async def serve_maildir(host: str, port: int, maildir: Path) -> None:
    handler = MaildirWriter(maildir)
    server = await asyncio.get_running_loop().create_server(lambda: SinkSMTP(handler), host, port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    address, folder = sys.argv[1:]
    listen_host, listen_port = address.rsplit(":", 1)
    uvloop.run(serve_maildir(listen_host, int(listen_port), Path(folder)))
