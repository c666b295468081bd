"""The three service images, started through testcontainers on the host network against the test
stack's Kafka, Postgres and SMTP, carry a registration through to its voucher and both emails."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import smoke
from support.containers import build, docker_api
from testcontainers.core.container import DockerContainer

SERVICES = build.SERVICES


def container_env(infra: dict[str, str], service: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in infra.items() if key != "SMTP_MAILDIR"}
    return {**env, f"{service.upper()}_PORT": str(port), f"{service.upper()}_HOST": "127.0.0.1", "LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def service_containers(infra: dict[str, str]) -> Iterator[dict[str, str]]:
    """Base URLs of the three services, each in its own container from its image."""
    engine, _ = build.ensure_images()
    ports = smoke.local.free_ports()
    with docker_api(engine):
        containers = [
            DockerContainer(
                build.image_name(service),
                env=container_env(infra, service, ports[service]),
                network_mode="host",
                read_only=True,
            ).with_tmpfs_mount("/tmp")
            for service in SERVICES
        ]
        try:
            for container in containers:
                container.start()
            urls = {service: f"http://127.0.0.1:{ports[service]}" for service in SERVICES}
            try:
                asyncio.run(smoke.wait_ready(urls))
            except RuntimeError as error:
                logs = "\n".join(c.get_logs()[0].decode()[-2000:] for c in containers)
                raise RuntimeError(f"{error}\n{logs}") from error
            yield urls
        finally:
            for container in containers:
                container.stop()


async def test_the_images_carry_a_registration_to_its_voucher_and_both_emails(infra, service_containers):
    code, subjects = await smoke.one_registration(infra, service_containers)
    assert code is not None, "no voucher row in ticketing's database"
    assert len(subjects) == 2
    assert subjects[0].startswith("Inschrijving bevestigd")
    assert code in subjects[1]


async def test_each_container_runs_as_the_unprivileged_user_of_its_image(service_containers):
    engine = build.engine()
    for service in SERVICES:
        config = engine.run("image", "inspect", "--format", "{{.Config.User}}", build.image_name(service)).strip()
        assert config == "10001:10001"
