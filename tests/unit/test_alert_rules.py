"""The alert rules load in Prometheus, and each alert fires on the series it is about."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: `make prometheus` installs it")
    return subprocess.run(["promtool", *args], cwd=OBSERVABILITY, capture_output=True, text=True, timeout=60)


def test_the_alert_rules_are_valid():
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout


def test_each_alert_fires_on_its_series_and_only_then():
    tested = promtool("test", "rules", "alerts-test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
