"""A batch cut into stretches: runs of the kinds decided together, each event with another key."""

from __future__ import annotations

import uuid

import asyncpg
from atelier_devkit.registration_events import registration_events
from atelier_platform.stretches import Stretches
from atelier_schemas import Message, RegistrationConfirmed, RegistrationPromoted


class Admissions(Stretches[RegistrationConfirmed | RegistrationPromoted]):
    kinds = (RegistrationConfirmed, RegistrationPromoted)

    def key(self, payload: RegistrationConfirmed | RegistrationPromoted) -> uuid.UUID:
        return payload.registration_id

    async def flush(self, conn: asyncpg.Connection) -> None:
        pass


def test_another_event_or_a_second_event_of_a_key_ends_a_stretch():
    first, second, third = registration_events(), registration_events(), registration_events()
    batch: list[Message] = [
        first["confirmed"],
        second["confirmed"],
        first["cancelled"],  # another kind
        third["confirmed"],
        second["promoted"],
        third["promoted"],  # a second of its key
    ]
    stretch_of = Admissions(batch).cut(batch)

    stretches = {id(s): [batch.index(p) for p in s] for s in stretch_of.values()}
    assert sorted(stretches.values()) == [[0, 1], [3, 4], [5]]
    assert id(batch[2]) not in stretch_of
