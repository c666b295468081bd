"""What every event and command model shares."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """An event or command payload.

    Consumers are tolerant (unknown fields are ignored); producers build instances
    through validation, so what they publish always matches the model.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    """The CloudEvents `type`: reverse domain, event name, major version."""
    TOPIC: ClassVar[str]

    def key(self) -> str:
        """The record key: all messages of one key stay in order."""
        raise NotImplementedError
