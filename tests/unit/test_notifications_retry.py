"""Which SMTP failures are worth retrying, and how long to wait before the next try."""

from __future__ import annotations

import aiosmtplib
import pytest
from notifications.smtp import ServerUnavailable, is_permanent, retry_delay


def refused(code: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(code, "no", "x@example.be")])


@pytest.mark.parametrize(
    "error",
    [
        refused(550),
        aiosmtplib.SMTPDataError(554, "message refused"),
        aiosmtplib.SMTPSenderRefused(553, "sender refused", "hello@atelier.brussels"),
        ValueError("address cannot be sent without SMTPUTF8"),
    ],
)
def test_a_5xx_reply_or_an_address_smtp_cannot_carry_is_permanent(error):
    assert is_permanent(error)


@pytest.mark.parametrize(
    "error",
    [
        refused(450),
        aiosmtplib.SMTPDataError(451, "try again later"),
        aiosmtplib.SMTPResponseException(421, "service not available"),
        aiosmtplib.SMTPServerDisconnected("connection lost"),
        aiosmtplib.SMTPReadTimeoutError("timed out"),
        ConnectionRefusedError(111, "Connection refused"),
        ServerUnavailable("SMTPAuthenticationError: 535 bad credentials"),
        aiosmtplib.SMTPSenderRefused(530, "Must issue a STARTTLS command first", "hello@atelier.brussels"),
    ],
)
def test_4xx_replies_network_trouble_and_a_server_refusing_our_session_are_transient(error):
    assert not is_permanent(error)


def test_retry_delays_double_with_jitter_up_to_the_cap():
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (20, 10.0)]:
        delays = [retry_delay(attempts, 2.0, 10.0) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered, so a crowd of retries does not arrive at once
