"""What a conductor's scan means for a voucher, on a given day."""

from __future__ import annotations

from datetime import date

import pytest
from ticketing.scanning import judge

DAY = date(2027, 1, 12)


@pytest.mark.parametrize(
    ("status", "today", "verdict"),
    [
        ("issued", DAY, "validated"),
        ("issued", date(2027, 1, 11), "wrong_date"),
        ("issued", date(2027, 1, 13), "wrong_date"),
        ("used", DAY, "already_used"),
        ("used", date(2027, 1, 13), "already_used"),
        ("void", DAY, "void"),
        ("void", date(2027, 1, 13), "void"),
    ],
)
def test_a_scan_is_valid_only_for_an_issued_voucher_on_its_day(status, today, verdict):
    assert judge(status, DAY, today) == verdict
