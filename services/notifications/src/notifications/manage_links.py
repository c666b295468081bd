"""The participant's manage link, opened only to write their email.

Registration seals the link (it carries the manage token) for notifications alone; the contacts and
the queued messages keep it sealed, so no table holds the token in plain (see docs/adr/0007).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import structlog
from atelier_platform import sealed
from atelier_schemas.registration import MANAGE_LINK_PURPOSE
from pydantic import SecretStr

log = structlog.get_logger(__name__)


def with_manage_link(row: Mapping[str, Any], key: SecretStr) -> Mapping[str, Any]:
    """The queued message with its context's `manage_url` opened; without a link when it cannot be opened."""
    context = json.loads(row["context"])
    if "sealed_manage_url" not in context:
        return row  # a message about a voucher: no link
    box = context.pop("sealed_manage_url")
    context["manage_url"] = None
    private = sealed.private_key(key.get_secret_value())
    try:
        if box is not None:
            context["manage_url"] = sealed.open_box(private, MANAGE_LINK_PURPOSE, box)
    except sealed.Unsealable:
        # Sealed for another key (keys were rotated): the email goes without the link rather than not at all.
        log.warning("manage link cannot be opened; the email goes without it", message_id=row["message_id"])
    return {**row, "context": json.dumps(context)}
