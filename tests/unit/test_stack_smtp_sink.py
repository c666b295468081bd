"""The local stacks' SMTP sink: every email it accepts lands in the Maildir's new/ folder as it came."""

from __future__ import annotations

import email
import email.policy
import smtplib
import subprocess
import sys
from pathlib import Path

from atelier_devkit.smtp_server import HOST
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
