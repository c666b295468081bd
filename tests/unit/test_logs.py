"""Logs are JSON lines with the correlation id, each written at once, and a traceback never shows local variables."""

from __future__ import annotations

import io
import json
import logging
import sys

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


class _Writes(io.StringIO):
    """A stdout that keeps each write apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


def test_each_line_is_written_whole_so_the_lines_of_two_processes_never_run_together(monkeypatch):
    """A service's processes share one stdout: a line written in two pieces can have another's in between."""
    stdout = _Writes()
    monkeypatch.setattr(sys, "stdout", stdout)
    logs.configure("tests")
    structlog.get_logger("tests").info("message sent", kind="voucher_issued")
    logging.getLogger("library").warning("a library speaks")
    assert [json.loads(write)["event"] for write in stdout.writes] == ["message sent", "a library speaks"]
    assert all(write.endswith("\n") and write.count("\n") == 1 for write in stdout.writes)
