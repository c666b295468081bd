"""Members of ticketing's and notifications' consumer groups SIGKILLed and added while a few
thousand events flow: each effect happens once, and no committed offset ever moves backwards."""

from __future__ import annotations

import asyncio
import collections

from aiokafka.admin import AIOKafkaAdminClient
from atelier_devkit import tally
from atelier_devkit.api import unique_email
from atelier_devkit.notification_events import confirmed
from atelier_devkit.publishing import publish
from support.delivery import messages_in_flight

REGISTRATIONS = 800  # 800 registration events and 800 voucher events: 2,400 handlings in all
GROUPS = ("ticketing", "notifications")


class CommittedOffsets:
    """Reads the groups' committed offsets over and over, remembering every move backwards."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.latest: dict[tuple[str, object], int] = {}
        self.backwards: list[tuple[str, object, int, int]] = []
        self.reads = 0

    async def watch(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            while True:
                for group in GROUPS:
                    for tp, committed in (await admin.list_consumer_group_offsets(group)).items():
                        before = self.latest.get((group, tp), -1)
                        if committed.offset < before:
                            self.backwards.append((group, tp, before, committed.offset))
                        self.latest[(group, tp)] = committed.offset
                self.reads += 1
                await asyncio.sleep(0.2)
        finally:
            await admin.close()


async def test_members_killed_and_added_during_thousands_of_events_apply_each_effect_once(faults):
    env = faults.env
    since = await tally.baseline(env)
    registrations = [confirmed(unique_email(), voucher_from="008821006") for _ in range(REGISTRATIONS)]
    offsets = CommittedOffsets(faults.bootstrap)
    watching = asyncio.create_task(offsets.watch())
    members = {name: [faults.services[name]] for name in GROUPS}

    async def add_members() -> None:
        for name, started in zip(GROUPS, await asyncio.gather(*map(faults.start_service, GROUPS)), strict=True):
            members[name].append(started)

    async def kill_oldest() -> None:
        await asyncio.gather(*(members[name].pop(0).kill() for name in GROUPS))

    chunks = [registrations[n : n + 100] for n in range(0, REGISTRATIONS, 100)]
    publishing = asyncio.create_task(publish_slowly(faults.bootstrap, chunks))
    await add_members()  # two members each
    await kill_oldest()  # one, a new one
    await add_members()  # two
    await add_members()  # three
    await kill_oldest()  # two
    await kill_oldest()  # one: the last added
    await publishing
    for name in GROUPS:
        [faults.services[name]] = members[name]

    expected = {
        str(r.registration_id): tally.expected_for("confirmed", str(r.participant.email), True) for r in registrations
    }
    outcome, _ = await tally.settle(lambda: tally.count(env, since, expected), timeout=240)
    watching.cancel()
    print(f"resent copies (same Message-ID): {outcome.resent_copies}")
    assert (outcome.vouchers, outcome.missing_vouchers) == (REGISTRATIONS, 0), faults.log_tails()
    assert outcome.messages_by_kind == collections.Counter(
        {"registration_confirmed": REGISTRATIONS, "voucher_issued": REGISTRATIONS}
    ), faults.log_tails()
    # A killed notifications member may have had messages accepted by SMTP but not yet recorded as
    # sent: those go again, with their Message-ID. At most one per SMTP connection of the 3 killed.
    assert outcome.resent_copies <= 3 * messages_in_flight()
    assert (outcome.lost, outcome.duplicated, outcome.dead_letters, outcome.unsent_outbox) == (0, 0, 0, 0)
    assert offsets.reads > 20 and offsets.backwards == []
    assert await faults.health() == dict.fromkeys(faults.services, 200), faults.log_tails()


async def publish_slowly(bootstrap: str, chunks: list) -> None:
    """A hundred events every half second, so the churn meets them at every stage."""
    for chunk in chunks:
        await publish(bootstrap, *chunk)
        await asyncio.sleep(0.5)
