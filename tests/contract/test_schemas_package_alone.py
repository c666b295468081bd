"""Another team installs the schemas package alone (plus aiokafka) in a fresh virtualenv and reads our events."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest
from atelier_devkit.kafka import publish_event, publish_raw
from atelier_schemas import MESSAGE_TYPES, RegistrationConfirmed, to_cloud_event
from atelier_schemas.topics import REGISTRATION_EVENTS
from support.contracts import EXAMPLES, SCHEMAS, load


def run(*command: str | Path) -> str:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True, timeout=300).stdout


@pytest.fixture(scope="module")
def outside_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a new virtualenv holding the schemas wheel and aiokafka, as another team would set it up."""
    root = tmp_path_factory.mktemp("another-team")
    run("uv", "build", SCHEMAS, "--wheel", "--out-dir", root / "dist", "--quiet")
    [wheel] = (root / "dist").glob("atelier_schemas-*.whl")
    run("uv", "venv", root / "venv", "--python", sys.executable, "--quiet")
    python = root / "venv" / "bin" / "python"
    run("uv", "pip", "install", "--python", python, wheel, f"aiokafka=={version('aiokafka')}", "--quiet")
    return python


def test_the_package_needs_pydantic_alone_and_brings_nothing_of_ours_but_itself(outside_python):
    requires = json.loads(
        run(
            outside_python,
            "-c",
            "import json, importlib.metadata as m; print(json.dumps(m.requires('atelier-schemas')))",
        )
    )
    installed = {
        p["name"] for p in json.loads(run("uv", "pip", "list", "--python", outside_python, "--format", "json"))
    }

    assert [r for r in requires if not r.startswith("pydantic")] == []
    assert {name for name in installed if name.startswith("atelier")} == {"atelier-schemas"}
    assert not installed & {"faststream", "fastapi", "asyncpg", "structlog"}


def test_the_installed_package_reads_the_example_of_every_type(outside_python):
    script = (
        "import json, sys\n"
        "from atelier_schemas import CloudEvent, parse\n"
        "for path in sys.argv[1:]:\n"
        "    record = json.load(open(path))\n"
        "    event = CloudEvent.from_kafka(record['headers'], json.dumps(record['value']).encode())\n"
        "    print(event.type, type(parse(event)).__name__)\n"
    )
    output = run(outside_python, "-c", script, *sorted(EXAMPLES.glob("*.json")))
    assert output.splitlines() == [f"{t} {MESSAGE_TYPES[t].__name__}" for t in sorted(MESSAGE_TYPES)]


def readme_consumer() -> str:
    readme = (SCHEMAS / "README.md").read_text()
    return re.search(r"## A consumer in another service\n.*?```python\n(.*?)```", readme, re.DOTALL).group(1)


async def test_the_readme_consumer_runs_with_the_schemas_package_alone(infra, outside_python, tmp_path):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    (tmp_path / "crm.py").write_text(readme_consumer())
    value = load(EXAMPLES / f"{RegistrationConfirmed.TYPE}.json")["value"]
    confirmed = RegistrationConfirmed(**{**value, "registration_id": str(uuid.uuid4())})
    event = to_cloud_event(confirmed, source="/tests")
    headers, _ = event.to_kafka()
    await publish_raw(bootstrap, REGISTRATION_EVENTS, b"{not json", key=confirmed.key().encode(), headers=headers)
    await publish_event(bootstrap, event, confirmed.key(), REGISTRATION_EVENTS)

    process = await asyncio.create_subprocess_exec(
        outside_python,
        tmp_path / "crm.py",
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    expected = f"confirmed {confirmed.registration_id} {confirmed.session.title}"
    lines: list[str] = []
    try:
        async with asyncio.timeout(120):
            while expected not in lines and (line := await process.stdout.readline()):
                lines.append(line.decode().strip())
    finally:
        process.terminate()
        await process.wait()
    assert expected in lines, "\n".join(lines[-20:])
