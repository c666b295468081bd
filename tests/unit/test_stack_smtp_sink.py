"""The local stacks' SMTP sink: every email it accepts lands in the Maildir's new/ folder as it came, its
DATA and addresses read as aiosmtpd itself reads them."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import subprocess
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP
from atelier_devkit.smtp_server import HOST, SinkSMTP
from atelier_devkit.stack.processes import free_port, wait_until
from atelier_devkit.stack.smtp import smtp_answers

RAW = (
    b"From: Atelier <hello@atelier.brussels>\r\nTo: lena@example.be\r\n"
    b"Subject: =?utf-8?b?SW5zY3JpcHRpb24gY29uZmlybcOpZQ==?=\r\n"
    b"Message-ID: <sink-{n}@atelier.brussels>\r\n\r\nBonjour Lena,\r\n.a line that begins with a dot\r\n"
)


def test_each_accepted_email_is_one_file_in_new_with_its_bytes_and_headers_as_sent(tmp_path: Path):
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "atelier_devkit.smtp_server", f"{HOST}:{port}", str(tmp_path)])
    try:
        assert wait_until(lambda: smtp_answers(port), 10)
        with smtplib.SMTP(HOST, port) as client:
            for n in range(3):
                client.sendmail("hello@atelier.brussels", ["lena@example.be"], RAW.replace(b"{n}", str(n).encode()))
    finally:
        sink.terminate()
        sink.wait(10)

    files = sorted((tmp_path / "new").iterdir())
    assert len(files) == 3 and list((tmp_path / "tmp").iterdir()) == []
    stored = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(str(m["Message-ID"]) for m in stored) == [f"<sink-{n}@atelier.brussels>" for n in range(3)]
    assert {str(m["Subject"]) for m in stored} == {"Inscription confirmée"}
    assert files[0].read_bytes().endswith(b"\nBonjour Lena,\n.a line that begins with a dot\n")  # LF, as mailbox wrote


class _Kept:
    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.contents.append(envelope.content)
        return "250 OK"


async def _session(port: int, pieces: list[bytes]) -> list[bytes]:
    """One message's DATA written in `pieces` (a pause between them, so the server reads them apart);
    every reply line the server sent, through QUIT."""
    async with asyncio.timeout(10):  # a server that lost a command would leave us waiting for its reply
        return await _talk(port, pieces)


async def _talk(port: int, pieces: list[bytes]) -> list[bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    replies = [await reader.readline()]
    for command in (b"EHLO client.example", b"MAIL FROM:<hello@atelier.brussels>", b"RCPT TO:<lena@example.be>"):
        writer.write(command + b"\r\n")
        while not (line := await reader.readline())[3:4] == b" ":
            pass
        replies.append(line)
    writer.write(b"DATA\r\n")
    replies.append(await reader.readline())
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.02)
    if not pieces[-1].endswith(b"QUIT\r\n"):
        writer.write(b"QUIT\r\n")
    replies += [await reader.readline(), await reader.readline()]
    writer.close()
    return replies


async def _serve(server_class: type[SMTP], handler: _Kept, **options: object) -> asyncio.Server:
    return await asyncio.get_running_loop().create_server(lambda: server_class(handler, **options), HOST, 0)


# A message with no lines; lines led by dots (doubled by the client, and one a client forgot to double);
# the end mark split over two reads; base64 lines well past one read; the next command sent along with
# the end mark.
DATA_AS_SENT = [
    [b".\r\n"],
    [b"Subject: x\r\n\r\n..first\r\n..\r\n...\r\n.unstuffed\r\nlast\r\n", b".", b"\r\n"],
    [b"Subject: y\r\n\r\n", (b"QUJD" * 19 + b"\r\n") * 5000, b".\r\n"],
    [b"..\r\nnext command follows\r\n.\r\nQUIT\r\n"],
]


async def test_chunked_data_hands_over_what_aiosmtpd_reading_line_by_line_does_and_replies_alike():
    line_by_line, chunked = _Kept(), _Kept()
    servers = [await _serve(SMTP, line_by_line), await _serve(SinkSMTP, chunked)]
    try:
        ports = [server.sockets[0].getsockname()[1] for server in servers]
        for pieces in DATA_AS_SENT:
            replies = [await _session(port, pieces) for port in ports]
            assert replies[0] == replies[1]
            assert replies[1][-2:] == [b"250 OK\r\n", b"221 Bye\r\n"]
    finally:
        for server in servers:
            server.close()
    assert chunked.contents == line_by_line.contents
    assert chunked.contents[:2] == [b"", b"Subject: x\r\n\r\n.first\r\n.\r\n..\r\nunstuffed\r\nlast\r\n"]
    assert chunked.contents[3] == b".\r\nnext command follows\r\n"


async def test_chunked_data_past_the_size_limit_is_refused_and_the_session_goes_on():
    kept = _Kept()
    server = await _serve(SinkSMTP, kept, data_size_limit=1000)
    try:
        port = server.sockets[0].getsockname()[1]
        too_much = await _session(port, [b"x" * 990 + b"\r\n", b"y" * 990 + b"\r\n", b".\r\n"])
        enough = await _session(port, [b"z" * 990 + b"\r\n.\r\n"])
    finally:
        server.close()
    assert too_much[-2:] == [b"552 Error: Too much mail data\r\n", b"221 Bye\r\n"]
    assert enough[-2:] == [b"250 OK\r\n", b"221 Bye\r\n"]
    assert kept.contents == [b"z" * 990 + b"\r\n"]


# Plain forms the sink reads by pattern, with parameters, spaces and tabs; others aiosmtpd's parser reads.
ADDRESSES = [
    "<lena.peeters@example.be>",
    "<lena.peeters@example.be> SIZE=6000",
    " <a.b+c@d.e>  BODY=8BITMIME SMTPUTF8",
    "\t<A@B.BE>\tX",
    "<a@b>SIZE=1",
    "<a@b> ",
    "<a@b>\r\n",
    "<a@b>>",
    "<a@b>(comment) X",
    "<a@b> (comment) X",
    "<>",
    '<"quoted x"@b>',
    "a@b",
    "<a@[127.0.0.1]>",
    "<@route:a@b>",
    "<a..b@c>",
    "<a@b.>",
    "<a b@c>",
    "<a@b",
    "<é@b>",
]


async def test_the_sink_reads_every_address_as_aiosmtpd_does():
    sink, aiosmtpd = SinkSMTP(_Kept()), SMTP(_Kept())
    assert [sink._getaddr(arg) for arg in ADDRESSES] == [aiosmtpd._getaddr(arg) for arg in ADDRESSES]
