"""The fault suite's own stack (`faults`): Kafka, Postgres and SMTP that the tests kill, stop and
bring back, never the shared `test` stack. Started for the folder, stopped at its end.

The three services run as real processes on it for the whole folder; registration with two
workers, as deployed for throughput. A test that kills a service leaves a healthy one behind.
"""

from __future__ import annotations

import pytest
from atelier_devkit.fault_stack import FaultStack


@pytest.fixture(scope="session")
async def faults(tmp_path_factory: pytest.TempPathFactory):
    stack = FaultStack("faults", tmp_path_factory.mktemp("fault-logs"))
    stack.up()
    try:
        await stack.start_services(registration={"REGISTRATION_WORKERS": "2"})
        yield stack
    finally:
        await stack.stop_services()
        stack.down()
