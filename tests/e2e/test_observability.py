"""What ops see: /metrics after real traffic, and one trace per registration across the services."""

from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path

import httpx
from atelier_devkit.api import create_session, registration_body, unique_email
from atelier_devkit.kafka import cloud_event, partition_count, publish_raw
from atelier_devkit.mail import wait_for_mail
from atelier_devkit.notification_events import confirmed
from atelier_devkit.waiting import eventually
from atelier_schemas.topics import CATALOG_EVENTS, REGISTRATION_COMMANDS, REGISTRATION_EVENTS, dead_letter
from support.metrics import families, matching, scrape, total

REGISTER_ROUTE = "/sessions/{session_id}/registrations"
SERVICES = ("registration", "ticketing", "notifications")  # with Kafka and a database; web has HTTP figures only
OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"


async def register(infra, services, email: str, headers: dict[str, str] | None = None) -> str:
    async with httpx.AsyncClient() as client:
        session_id = await create_session(client, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        response = await client.post(
            f"{services['registration']}/sessions/{session_id}/registrations",
            json=registration_body(email),
            headers=headers or {},
        )
    assert response.status_code == 201, response.text
    return session_id


async def test_a_registration_shows_in_each_services_metrics(infra, services):
    before = {name: await scrape(services[name]) for name in SERVICES}
    email = unique_email()
    session_id = await register(infra, services, email)
    await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2)

    registration = await scrape(services["registration"])
    created = dict(method="POST", route=REGISTER_ROUTE, status="201")
    assert total(registration, "atelier_http_request_duration_seconds_count", **created) >= 1 + total(
        before["registration"], "atelier_http_request_duration_seconds_count", **created
    )
    assert not [s for s in registration if session_id in s.labels.get("route", "")]  # templates, not raw paths
    assert matching(registration, "atelier_outbox_unsent_rows")
    assert matching(registration, "atelier_outbox_oldest_unsent_age_seconds")
    assert matching(registration, "atelier_intake_queue_depth")
    assert {s.labels["check"]: s.value for s in matching(registration, "atelier_ready")} == {
        "database": 1,
        "kafka": 1,
        "tasks": 1,
    }
    partitions = await partition_count(infra["KAFKA_BOOTSTRAP_SERVERS"], REGISTRATION_COMMANDS)
    lag = matching(registration, "atelier_consumer_lag", group="registration", topic=REGISTRATION_COMMANDS)
    assert sorted(int(s.labels["partition"]) for s in lag) == list(range(partitions))

    ticketing = await scrape(services["ticketing"])
    assert total(ticketing, "atelier_vouchers_total", outcome="issued") >= 1 + total(
        before["ticketing"], "atelier_vouchers_total", outcome="issued"
    )
    consumed = dict(app_name="ticketing", handler=f"{REGISTRATION_EVENTS},{CATALOG_EVENTS}")  # its subscriber's topics
    assert total(ticketing, "faststream_received_messages_total", **consumed) >= 1 + total(
        before["ticketing"], "faststream_received_messages_total", **consumed
    )

    notifications = await scrape(services["notifications"])
    assert total(notifications, "atelier_emails_total", outcome="sent") >= 2 + total(
        before["notifications"], "atelier_emails_total", outcome="sent"
    )

    partitions = await partition_count(infra["KAFKA_BOOTSTRAP_SERVERS"], REGISTRATION_EVENTS)

    async def caught_up() -> bool:
        scraped = await scrape(services["ticketing"])
        lags = matching(scraped, "atelier_consumer_lag", group="ticketing", topic=REGISTRATION_EVENTS)
        return len(lags) == partitions and sum(s.value for s in lags) == 0

    assert await eventually(caught_up, timeout=30)


async def test_the_participant_pages_count_their_requests_by_route_template(services):
    web = services["web"]
    unknown = str(uuid.uuid4())
    programme = dict(method="GET", route="/", status="200")
    form = dict(method="GET", route="/sessions/{session_id}/register", status="404")
    before = await scrape(web)
    async with httpx.AsyncClient(base_url=web, timeout=10) as client:
        assert (await client.get("/")).status_code == 200
        assert (await client.get(f"/sessions/{unknown}/register")).status_code == 404
    after = await scrape(web)
    for labels in (programme, form):
        count = "atelier_http_request_duration_seconds_count"
        assert total(after, count, **labels) == 1 + total(before, count, **labels), labels
    assert not [s for s in after if unknown in s.labels.get("route", "")]  # templates, never the raw path


async def test_a_record_that_is_not_ours_counts_as_a_dead_letter(infra, services):
    dlq = dead_letter(REGISTRATION_EVENTS)
    before = await scrape(services["ticketing"])
    headers, _ = cloud_event(confirmed(unique_email())).to_kafka()  # other tests read this topic's headers
    key = uuid.uuid4().hex.encode()
    await publish_raw(infra["KAFKA_BOOTSTRAP_SERVERS"], REGISTRATION_EVENTS, b"{not json", key=key, headers=headers)

    async def counted() -> bool:
        now = await scrape(services["ticketing"])
        return total(now, "atelier_dead_letters_total", topic=dlq, group="ticketing") == 1 + total(
            before, "atelier_dead_letters_total", topic=dlq, group="ticketing"
        ) and total(now, "atelier_dead_letter_topic_records", topic=dlq) > total(
            before, "atelier_dead_letter_topic_records", topic=dlq
        )

    assert await eventually(counted, timeout=30)


async def test_one_registration_is_one_trace_from_the_request_to_both_smtp_sends(infra, services, trace_receiver):
    trace_id = secrets.token_hex(16)
    email = unique_email()
    await register(infra, services, email, {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2)

    def complete() -> bool:
        return sum(s.name == "smtp send" for s in trace_receiver.of_trace(trace_id)) == 2

    assert await eventually(complete, timeout=20)
    spans = trace_receiver.of_trace(trace_id)
    names = {(s.service, s.name) for s in spans}
    assert ("registration", f"POST {REGISTER_ROUTE}") in names
    assert ("registration", f"{REGISTRATION_EVENTS} publish") in names  # the outbox relay
    assert ("ticketing", f"{REGISTRATION_EVENTS} process") in names
    assert ("ticketing", "ticketing.events publish") in names
    assert ("notifications", f"{REGISTRATION_EVENTS} process") in names
    assert ("notifications", "ticketing.events process") in names
    assert ("notifications", "smtp send") in names
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if s.parent_id not in ids]
    assert len(roots) == 1 and roots[0].service == "registration"  # one tree, under the HTTP request


async def test_every_metric_the_alerts_and_the_dashboard_use_is_exported(services):
    used = set()
    for path in (OBSERVABILITY / "alerts.yml", OBSERVABILITY / "dashboard.json"):
        used |= set(re.findall(r"\b(?:atelier|faststream)_[a-z_]+", path.read_text()))
    exported = set()
    for name in SERVICES:
        for family in await families(services[name]):
            counted = [f"{family.name}_total"] if family.type == "counter" else []  # the parser drops _total
            exported |= {family.name, *counted, *(s.name for s in family.samples)}
    assert used and used <= exported, used - exported
