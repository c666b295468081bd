"""Move dead letters back to their topic once the cause is fixed.

    python -m atelier_platform.replay --from registration.events.dlq [--group ticketing] [--dry-run]

Each dead letter goes back to the topic named by its `dlq_original_topic` header, with its
key, value and CloudEvents headers, without the `dlq_*` headers. The letters of each consumer
group are read in a replay group of their own, whose offsets are committed in the same Kafka
transaction as the records written, so a dead letter is moved once, however often the tool
runs and whether or not --group is given. A run stops at the end the topic had when it began.

A moved event reaches every consumer group of its topic again: a group that had handled it
drops it by its event id (inbox), and a record that is still poison comes back to the
dead-letter topic. It lands after the events written since it was dead-lettered, so a
consumer may see it after newer events of the same key.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from .kafka_client import client_args

DLQ_SUFFIX = ".dlq"
DLQ_HEADER_PREFIX = "dlq_"

Report = Callable[[str], None]


def replay_group(dlq_topic: str, group: str) -> str:
    """The consumer group (and transactional id) that replays `group`'s letters in `dlq_topic`."""
    return f"atelier.replay.{dlq_topic}.{group}"


def original_topic(record: ConsumerRecord, dlq_topic: str) -> str:
    return _headers(record).get("dlq_original_topic") or dlq_topic.removesuffix(DLQ_SUFFIX)


def written_by(record: ConsumerRecord) -> str:
    """The consumer group that dead-lettered `record`."""
    return _headers(record).get("dlq_consumer_group", "unknown")


def without_dlq_headers(record: ConsumerRecord) -> list[tuple[str, bytes]]:
    return [(name, value) for name, value in record.headers or () if not name.startswith(DLQ_HEADER_PREFIX)]


async def replay(
    bootstrap_servers: str,
    dlq_topic: str,
    *,
    group: str | None = None,
    dry_run: bool = False,
    report: Report = lambda line: None,
) -> dict[str, int]:
    """Move the dead letters of `dlq_topic` (of `group` only, if given); returns how many per group."""
    groups = [group] if group else await groups_in(bootstrap_servers, dlq_topic)
    moved = {g: await _replay_letters_of(bootstrap_servers, dlq_topic, g, dry_run, report) for g in groups}
    for g, count in moved.items():
        report(f"{'would move' if dry_run else 'moved'} {count} dead letter(s) of group {g} from {dlq_topic}")
    return moved


async def groups_in(bootstrap_servers: str, dlq_topic: str) -> list[str]:
    """Every consumer group that has letters in `dlq_topic`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **client_args())
    await consumer.start()
    try:
        partitions = await _partitions(bootstrap_servers, dlq_topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        groups = set()
        async for _, records in _read_to_end(consumer, partitions):
            groups |= {written_by(r) for r in records}
        return sorted(groups)
    finally:
        await consumer.stop()


async def _replay_letters_of(bootstrap_servers: str, dlq_topic: str, group: str, dry_run: bool, report: Report) -> int:
    replay_id = replay_group(dlq_topic, group)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=replay_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_args(),
    )
    producer = (
        None
        if dry_run
        else AIOKafkaProducer(bootstrap_servers=bootstrap_servers, transactional_id=replay_id, **client_args())
    )
    await consumer.start()
    try:
        if producer is not None:
            await producer.start()
        partitions = await _partitions(bootstrap_servers, dlq_topic)
        consumer.assign(partitions)  # positions start at this replay group's committed offsets
        moved = 0
        async for tp, records in _read_to_end(consumer, partitions):
            letters = [r for r in records if written_by(r) == group]
            for letter in letters:
                report(f"{'would move' if dry_run else 'moving'} {_describe(letter, tp, dlq_topic)}")
            if producer is not None:
                async with producer.transaction():
                    for letter in letters:
                        await producer.send(
                            original_topic(letter, dlq_topic),
                            value=letter.value,
                            key=letter.key,
                            headers=without_dlq_headers(letter),
                        )
                    await producer.send_offsets_to_transaction({tp: records[-1].offset + 1}, replay_id)
            moved += len(letters)
        return moved
    finally:
        await consumer.stop()
        if producer is not None:
            await producer.stop()


async def _read_to_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> AsyncIterator[tuple[TopicPartition, list[ConsumerRecord]]]:
    """Batches of records, per partition, up to the end each partition had at the start."""
    end = await consumer.end_offsets(partitions)
    while pending := [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
        batch = await consumer.getmany(*pending, timeout_ms=1000)
        for tp, records in batch.items():
            records = [r for r in records if r.offset < end[tp]]  # letters written since wait for the next run
            if records:
                yield tp, records


async def _partitions(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_args())
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description["error_code"] or not description["partitions"]:
        raise SystemExit(f"no topic {topic}")
    return [TopicPartition(topic, n) for n in sorted(p["partition"] for p in description["partitions"])]


def _describe(letter: ConsumerRecord, tp: TopicPartition, dlq_topic: str) -> str:
    headers = _headers(letter)
    return (
        f"{tp.partition}:{letter.offset} to {original_topic(letter, dlq_topic)}:"
        f" {headers.get('ce_type', 'no ce_type')} {headers.get('ce_id', 'no ce_id')}"
        f" (group {written_by(letter)}: {headers.get('dlq_error', '')[:120]})"
    )


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in record.headers or ()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atelier_platform.replay", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--from", dest="dlq_topic", required=True, help="the dead-letter topic, <topic>.dlq")
    parser.add_argument("--group", help="move only the letters this consumer group wrote")
    parser.add_argument("--dry-run", action="store_true", help="print what would move, move nothing")
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="Kafka (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)",
    )
    args = parser.parse_args(argv)
    if not args.dlq_topic.endswith(DLQ_SUFFIX):
        parser.error(f"--from takes a dead-letter topic, ending in {DLQ_SUFFIX}")
    asyncio.run(replay(args.bootstrap_servers, args.dlq_topic, group=args.group, dry_run=args.dry_run, report=print))
    return 0


if __name__ == "__main__":
    sys.exit(main())
