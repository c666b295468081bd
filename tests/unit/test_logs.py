"""Logs are JSON lines with the correlation id, and a traceback never shows local variables."""

from __future__ import annotations

import json
import logging

import structlog
from atelier_platform import logs


def test_an_exception_is_logged_without_the_values_of_local_variables(capsys):
    logs.configure("tests")
    email = "lena.private@example.be"  # noqa: F841  a local a traceback with locals would print
    token = logs.correlation_id.set("corr-1")
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("tests").exception("it failed")
        logging.getLogger("library").exception("a library failed too")
    finally:
        logs.correlation_id.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["it failed", "a library failed too"]
    assert lines[0]["correlation_id"] == "corr-1" and lines[0]["service"] == "tests"
    assert all("ValueError" in json.dumps(line) for line in lines)
    assert not any("lena.private" in json.dumps(line) for line in lines)
