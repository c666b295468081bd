"""The voucher's QR code as a PNG image, drawn once per payload."""

from __future__ import annotations

import functools
import io

import segno


@functools.lru_cache(maxsize=1024)
def qr_png(payload: str) -> bytes:
    """Drawing is the dearest step of a voucher email (choosing the best mask): a retried message or a
    reissued one for the same voucher reuses the image. Deterministic, so a restart only draws it again."""
    # Error correction M survives a scratched phone screen; scale 6 makes a ~200 px image for most payloads.
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()
