"""A real SMTP server the test controls: it records what it accepts, can refuse addresses, and can go away.

aiosmtpd runs it in a thread of the test process, on a port that stays the same across a stop
and a start, so a client pointed at it sees an outage and then the server coming back.
"""

from __future__ import annotations

import collections
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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
