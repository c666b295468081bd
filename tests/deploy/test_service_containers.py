"""The service images, started through testcontainers on the host network against the test stack's
Kafka, Postgres and SMTP, carry a registration through to its voucher and both emails, serve their
/docs and /asyncapi pages from what the image carries, and the participant pages answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
import smoke
from atelier_platform import docs_assets
from support.containers import build, docker_api
from testcontainers.core.container import DockerContainer

SERVICES = build.SERVICES
APIS = tuple(service for service in SERVICES if service != smoke.PAGES)  # the services with /docs


def container_env(infra: dict[str, str], service: str, ports: dict[str, int]) -> dict[str, str]:
    env = {key: value for key, value in infra.items() if key != "SMTP_MAILDIR"}
    apis = {f"{api.upper()}_URL": f"http://127.0.0.1:{ports[api]}" for api in ("registration", "ticketing")}
    listen = {f"{service.upper()}_PORT": str(ports[service]), f"{service.upper()}_HOST": "127.0.0.1"}
    return {**env, **apis, **listen, "LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def service_containers(infra: dict[str, str]) -> Iterator[dict[str, str]]:
    """Base URLs of the services and the participant pages, each in its own container from its image."""
    engine, _ = build.ensure_images()
    ports = smoke.local.free_ports()
    with docker_api(engine):
        containers = [
            DockerContainer(
                build.image_name(service),
                env=container_env(infra, service, ports),
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


@pytest.mark.parametrize("page", ["/docs", "/asyncapi"])
async def test_the_api_pages_load_only_what_the_image_carries(service_containers, page):
    async with httpx.AsyncClient(timeout=10) as client:
        for service in APIS:
            html = (await client.get(f"{service_containers[service]}{page}")).text
            assert not re.search(r"(src|href)=[\"']?(https?:)?//", html), f"{service}{page} loads from elsewhere"
            loaded = re.findall(rf"(?:src|href)=[\"']?({docs_assets.PREFIX}/[^\"' >]+)", html)
            assert loaded, html
            for path in loaded:
                asset = await client.get(f"{service_containers[service]}{path}")
                assert asset.status_code == 200 and len(asset.content) > 0, f"{service}{path}"


async def test_the_participant_pages_show_the_programme_from_registrations_api(service_containers):
    async with httpx.AsyncClient(timeout=10) as client:
        programme = await client.get(f"{service_containers[smoke.PAGES]}/")
    assert programme.status_code == 200 and "<html" in programme.text


async def test_each_container_runs_as_the_unprivileged_user_of_its_image(service_containers):
    engine = build.engine()
    for service in SERVICES:
        config = engine.run("image", "inspect", "--format", "{{.Config.User}}", build.image_name(service)).strip()
        assert config == "10001:10001"
