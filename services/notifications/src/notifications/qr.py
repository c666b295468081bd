"""The voucher's QR code as a PNG image."""

from __future__ import annotations

import io

import segno


def qr_png(payload: str) -> bytes:
    # Error correction M survives a scratched phone screen; scale 6 makes a ~200 px image for most payloads.
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()
