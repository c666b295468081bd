"""The words the services and the participant pages share: public API, like the topic names.

Each is stated once, as a Literal type (for pydantic, the JSON Schemas and mypy), with its values as
a tuple (for loops and membership checks).
"""

from typing import Literal, get_args

Language = Literal["fr", "nl", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

Profile = Literal["entrepreneur", "student", "job_seeker", "other"]
PROFILES: tuple[Profile, ...] = get_args(Profile)

# What a session is about. "coaching" is the topic of the 1:1 coaching slots and of no workshop.
Topic = Literal["online_visibility", "social_media", "seo", "e_commerce", "digital_marketing", "coaching", "other"]
TOPICS: tuple[Topic, ...] = get_args(Topic)
WorkshopTopic = Literal["online_visibility", "social_media", "seo", "e_commerce", "digital_marketing", "other"]
WORKSHOP_TOPICS: tuple[WorkshopTopic, ...] = get_args(WorkshopTopic)
