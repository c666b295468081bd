"""Topic names: public API, never renamed."""

REGISTRATION_COMMANDS = "registration.commands"
REGISTRATION_EVENTS = "registration.events"
CATALOG_EVENTS = "catalog.events"
TICKETING_EVENTS = "ticketing.events"
NOTIFICATIONS_EVENTS = "notifications.events"

ALL = (
    REGISTRATION_COMMANDS,
    REGISTRATION_EVENTS,
    CATALOG_EVENTS,
    TICKETING_EVENTS,
    NOTIFICATIONS_EVENTS,
)


def dead_letter(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return f"{topic}.dlq"
