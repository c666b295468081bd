"""A subscriber documents the types of its topic but hands every record, however bad, to EventConsumer."""

from __future__ import annotations

from atelier_platform.subscribe import subscribe
from atelier_schemas import RegistrationConfirmed, to_cloud_event
from atelier_schemas.topics import REGISTRATION_EVENTS
from faststream.kafka import KafkaBroker, TestKafkaBroker
from support.contracts import EXAMPLES, load


class RecordingConsumer:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def handle_batch(self, records) -> None:
        self.values.extend(record.value for record in records)


async def test_records_reach_the_consumer_raw_whether_or_not_they_match_the_documented_types():
    broker, consumer = KafkaBroker(), RecordingConsumer()
    subscribe(broker, [REGISTRATION_EVENTS], "tests", lambda: consumer)
    good = to_cloud_event(
        RegistrationConfirmed(**load(EXAMPLES / f"{RegistrationConfirmed.TYPE}.json")["value"]), source="/tests"
    )
    headers, value = good.to_kafka()

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{not json", REGISTRATION_EVENTS, headers=headers)
        await test_broker.publish(b'{"registration_id": "not-a-uuid"}', REGISTRATION_EVENTS, headers=headers)
        await test_broker.publish(value, REGISTRATION_EVENTS, headers=headers)

    assert consumer.values == [b"{not json", b'{"registration_id": "not-a-uuid"}', value]
