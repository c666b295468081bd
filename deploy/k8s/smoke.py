"""`make k8s-smoke`: the images and the `local` overlay, run for real on this machine.

    python deploy/k8s/smoke.py [--name STACK]

Builds the images (cached), `podman kube play`s the local overlay against a local stack
(`dev` unless told), checks each pod's /readyz, walks one registration to its voucher and
both emails, has the participant pages (web) show the programme from registration's API,
then stops the ticketing pod with SIGTERM while registrations are in flight and checks that
it drained (exit 0 within the grace period) and that no work was lost once it is back.
`podman kube down` at the end, whatever happened. Prints the build and smoke times.
tests/deploy/test_k8s_smoke.py runs the same in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from atelier_devkit.api import create_session, registration_body, unique_email
from atelier_devkit.mail import wait_for_mail
from atelier_devkit.stack.infra import ensure_infra
from atelier_devkit.waiting import eventually

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "observability"))
import local  # noqa: E402
import prometheus  # noqa: E402
from local import build  # noqa: E402

GRACE_SECONDS = 25  # terminationGracePeriodSeconds of the Deployments
DRAINED_SERVICE = "ticketing"
IN_FLIGHT = 5  # registrations sent just before the SIGTERM
PAGES = "web"  # the participant pages: no database or Kafka, so no atelier_ready figures


@dataclass
class Drain:
    exit_code: int
    stop_seconds: float
    emails: list[str]  # participants registered around the stop
    vouchers: dict[str, int] = field(default_factory=dict)  # email -> vouchers issued
    mails: dict[str, int] = field(default_factory=dict)  # email -> emails received


@dataclass
class Smoke:
    build_seconds: float
    ready: dict[str, dict]
    voucher_code: str | None
    subjects: list[str]
    drain: Drain
    programme_status: int  # web's programme page, which it fills from registration's API
    scraped: dict[str, float] = field(default_factory=dict)  # job -> atelier_ready as Prometheus read it
    smoke_seconds: float = 0.0


async def wait_ready(urls: dict[str, str], timeout: float = 120) -> dict[str, dict]:
    """Each service's /readyz answer once all say ready."""
    answers: dict[str, dict] = {}

    async def all_ready() -> bool:
        async with httpx.AsyncClient(timeout=3) as client:
            for service, url in urls.items():
                try:
                    response = await client.get(f"{url}/readyz")
                except httpx.HTTPError:
                    return False
                if response.status_code != 200:
                    return False
                answers[service] = response.json()
        return True

    if not await eventually(all_ready, timeout):
        raise RuntimeError(f"pods not ready within {timeout:.0f} s: {answers}")
    return answers


async def register(client: httpx.AsyncClient, urls: dict[str, str], session_id: str, email: str) -> str:
    response = await client.post(
        f"{urls['registration']}/sessions/{session_id}/registrations", json=registration_body(email)
    )
    response.raise_for_status()
    return response.json()["registration_id"]


async def voucher_codes(infra: dict[str, str], registration_id: str) -> list[str]:
    conn = await asyncpg.connect(infra["TICKETING_DATABASE_URL"])
    try:
        rows = await conn.fetch("SELECT code FROM vouchers WHERE registration_id = $1", registration_id)
    finally:
        await conn.close()
    return [row["code"] for row in rows]


async def one_registration(infra: dict[str, str], urls: dict[str, str]) -> tuple[str | None, list[str]]:
    """A participant asks for a voucher: the voucher code and the subjects of the two emails."""
    email = unique_email()
    async with httpx.AsyncClient(timeout=10) as client:
        session_id = await create_session(client, urls["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        registration_id = await register(client, urls, session_id, email)
    mails = await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2, timeout=60)
    codes = await voucher_codes(infra, registration_id)
    return (codes[0] if codes else None), [mail["Subject"] for mail in mails]


async def programme_status(urls: dict[str, str]) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"{urls[PAGES]}/")).status_code


async def drain(podman: build.Engine, infra: dict[str, str], urls: dict[str, str]) -> Drain:
    """SIGTERM the ticketing pod right after registrations that need it; start it again; count."""
    emails = [unique_email() for _ in range(IN_FLIGHT)]
    async with httpx.AsyncClient(timeout=10) as client:
        session_id = await create_session(
            client, urls["registration"], infra["REGISTRATION_ADMIN_TOKEN"], capacity=IN_FLIGHT
        )
        registrations = {email: await register(client, urls, session_id, email) for email in emails}
    pod = local.pod_name(DRAINED_SERVICE)
    started = time.monotonic()
    await asyncio.to_thread(podman.run, "pod", "stop", "--time", str(GRACE_SECONDS), pod)
    stop_seconds = time.monotonic() - started
    exit_code = local.container_state(podman, DRAINED_SERVICE)["ExitCode"]
    await asyncio.to_thread(podman.run, "pod", "start", pod)
    await wait_ready({DRAINED_SERVICE: urls[DRAINED_SERVICE]})
    result = Drain(exit_code, stop_seconds, emails)
    for email in emails:
        result.mails[email] = len(await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2, timeout=60))
        result.vouchers[email] = len(await voucher_codes(infra, registrations[email]))
    return result


async def scrape(urls: dict[str, str], workdir: Path, timeout: float = 60) -> dict[str, float]:
    """A real Prometheus scrapes every pod; each job's lowest `atelier_ready` once all answer."""
    with prometheus.running(urls, workdir) as server:

        async def all_scraped() -> bool:
            return await prometheus.query(server, "up") == dict.fromkeys(urls, 1.0)

        if not await eventually(all_scraped, timeout):
            raise RuntimeError(f"Prometheus did not scrape every pod within {timeout:.0f} s")
        return await prometheus.query(server, "min by (job) (atelier_ready)")


def run(infra: dict[str, str], workdir: Path) -> Smoke:
    """Build, play, walk, scrape, drain, and always take the pods down; `workdir` keeps Prometheus' files."""
    podman, timings = build.ensure_images()
    if not podman.is_podman:
        raise RuntimeError("the smoke run plays the overlay with podman; Docker has no `kube play`")
    started = time.monotonic()
    deployment = local.play(podman, infra)
    try:
        ready = asyncio.run(wait_ready(deployment.urls))
        code, subjects = asyncio.run(one_registration(infra, deployment.urls))
        programme = asyncio.run(programme_status(deployment.urls))
        scraped = asyncio.run(scrape(deployment.urls, workdir))
        drained = asyncio.run(drain(podman, infra, deployment.urls))
    finally:
        local.down(podman, deployment.manifest)
    return Smoke(timings["total"], ready, code, subjects, drained, programme, scraped, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/k8s/smoke.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="dev", help="the local stack to run against (default: dev)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="atelier-smoke-") as workdir:
        result = run(ensure_infra(args.name), Path(workdir))
    for service, answer in result.ready.items():
        print(f"{service} /readyz: {answer}")
    print(f"Prometheus scraped every pod; atelier_ready by job: {result.scraped}")
    print(f"voucher: {result.voucher_code}; emails: {result.subjects}")
    print(f"participant pages: programme answered {result.programme_status}")
    d = result.drain
    lost = sum(1 for e in d.emails if d.vouchers[e] != 1 or d.mails[e] != 2)
    print(
        f"{DRAINED_SERVICE} stopped by SIGTERM in {d.stop_seconds:.1f} s (exit {d.exit_code});"
        f" {len(d.emails) - lost} of {len(d.emails)} registrations in flight got one voucher and two emails"
    )
    print(f"build {result.build_seconds:.1f} s, smoke {result.smoke_seconds:.1f} s")
    scraped = result.scraped == dict.fromkeys(set(result.ready) - {PAGES}, 1.0)
    served = result.programme_status == 200
    ok = result.voucher_code and len(result.subjects) == 2 and scraped and served and d.exit_code == 0 and not lost
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
