"""A batch's RegisterParticipant commands decided by stretches (`atelier_platform.stretches`): which of a
stretch's commands were applied already read in one statement, and the stretch's registrations decided
in one `register_many` (as the HTTP intake does), instead of a handful of statements a command.

A stretch is a run of RegisterParticipant commands in the batch, each with another command id. Any
other command (a cancellation, an erasure) and a command sent again under a new event id end it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import ClassVar

import asyncpg
from atelier_platform.stretches import Stretches
from atelier_schemas import Message, RegisterParticipant, RegisterParticipantV2

from ..service_layer import registrations
from ..service_layer.manage_links import ManageLinks

Command = RegisterParticipant | RegisterParticipantV2


class RegisterStretches(Stretches[Command]):
    kinds: ClassVar[tuple[type[Message], ...]] = (RegisterParticipant, RegisterParticipantV2)

    def __init__(self, payloads: Sequence[Message], links: ManageLinks) -> None:
        super().__init__(payloads)
        self.links = links
        self.applied: set[uuid.UUID] = set()  # the stretch's commands applied before it
        self.applications: list[registrations.Application] = []  # not yet decided

    def key(self, payload: Command) -> uuid.UUID:
        return payload.command_id

    async def already_applied(self, conn: asyncpg.Connection, command: Command) -> bool:
        """True when `command` was applied before its stretch, read with the rest of it when it begins."""
        if stretch := await self.begun(conn, command):
            self.applied = await registrations.commands_applied(conn, [c.command_id for c in stretch])
        return command.command_id in self.applied

    async def flush(self, conn: asyncpg.Connection) -> None:
        if self.applications:
            outcomes = await registrations.register_many(conn, self.applications, links=self.links)
            await registrations.reject_refused(conn, self.applications, outcomes)
            self.applications = []
