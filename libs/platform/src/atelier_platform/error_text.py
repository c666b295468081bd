"""An error in words that never carry the data that caused it, for logs and `dlq_error` headers.

asyncpg puts the offending row into `DETAIL` (`Key (email)=(...)`) and pydantic the refused value
into `input_value`; both end up in `str(exc)`. What stays: the error type, the SQLSTATE, the
constraint, table and column, the fields and rules a validation broke, and our own messages.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from pydantic import ValidationError

# Our own exceptions are written without personal data; anyone else's message may quote its input.
_OWN_PACKAGES = {"atelier_schemas", "atelier_platform", "registration", "ticketing", "notifications", "web"}


def describe(error: BaseException) -> str:
    name = type(error).__name__
    if isinstance(error, asyncpg.PostgresError):
        parts = [f"SQLSTATE {error.sqlstate}"]
        for label in ("constraint", "table", "column"):
            if value := getattr(error, f"{label}_name", None):
                parts.append(f"{label} {value}")
        return f"{name} ({', '.join(parts)})"
    if isinstance(error, ValidationError):
        problems = error.errors(include_input=False, include_url=False, include_context=False)
        listed = "; ".join(f"{'.'.join(map(str, p['loc'])) or '(value)'}: {p['type']}" for p in problems[:10])
        return f"{name}: {error.error_count()} problem(s): {listed}"
    if type(error).__module__.split(".")[0] in _OWN_PACKAGES:
        return f"{name}: {error}"
    return name


def _chain(error: BaseException | None) -> list[BaseException]:
    """The exceptions in the order structlog's traceback lists them: each one, then its cause or context."""
    chain = []
    while error is not None:
        chain.append(error)
        if error.__cause__ is not None and error.__cause__.__traceback__:
            error = error.__cause__
        elif error.__context__ is not None and error.__context__.__traceback__ and not error.__suppress_context__:
            error = error.__context__
        else:
            error = None
    return chain


class RedactedTraceback(structlog.tracebacks.ExceptionDictTransformer):
    """Frames as usual (without local variables), each exception's value replaced by `describe`."""

    def __init__(self) -> None:
        super().__init__(show_locals=False)

    def __call__(self, exc_info: Any) -> list[dict[str, Any]]:
        stacks = super().__call__(exc_info)
        for stack, error in zip(stacks, _chain(exc_info[1]), strict=False):
            stack["exc_value"] = describe(error)
        return stacks
