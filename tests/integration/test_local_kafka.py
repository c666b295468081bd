"""The local stacks' broker, as the tests run it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from atelier_devkit.stack.kafka import kafka_marker
from atelier_devkit.stack.processes import is_running
from atelier_devkit.stack.state import load_state


def test_the_broker_compiles_with_c1_alone_so_its_cpu_goes_to_requests(infra):
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("a broker given from outside is not the local stack's")
    pid = load_state("test")["kafka"]["pid"]
    assert is_running(pid, kafka_marker("test"))
    threads = [task.joinpath("comm").read_text().strip() for task in Path(f"/proc/{pid}/task").iterdir()]
    compilers = sorted({name.split(" ")[0] for name in threads if "CompilerThre" in name})
    assert compilers == ["C1"]
