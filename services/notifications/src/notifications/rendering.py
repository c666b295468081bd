"""Subject, plain text and HTML of one message, from its Jinja2 template in the participant's language.

Templates live in `templates/messages/<kind>.<language>.j2` and extend `templates/layout.j2`.
Undefined variables raise (StrictUndefined), so a template that needs a fact its message does
not carry fails loudly instead of sending a hole.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context

from .centre import ADDRESS, STATION

TEMPLATES = Path(__file__).parent / "templates"
BRUSSELS = ZoneInfo("Europe/Brussels")
# Dates, times and prices as a reader of each language expects them.
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_GB"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def template_name(kind: str, language: str) -> str:
    return f"messages/{kind}.{language}.j2"


def render(kind: str, language: str, name: str, context: dict[str, Any]) -> Rendered:
    """Raises jinja2 errors for a missing template, variable or translation."""
    values = {**typed(context), "name": name, "lang": language}
    if "origin_station_id" in context:
        values["origin"] = origin_label(context, language)
    text_template, html_template = _template(kind, language, html=False), _template(kind, language, html=True)
    # The subject block alone: rendering the whole template for it ran the layout and its imports once more.
    subject = "".join(text_template.blocks["subject"](text_template.new_context(values)))
    return Rendered(
        subject=" ".join(subject.split()),
        text=text_template.render(values, part="text"),
        html=html_template.render(values, part="html"),
    )


def typed(context: dict[str, Any]) -> dict[str, Any]:
    """Stored contexts are JSON: times back to Brussels datetimes, the voucher day to a date, prices to Decimal."""
    values = dict(context)
    for key, value in context.items():
        if key.endswith("_at") and isinstance(value, str):
            values[key] = datetime.fromisoformat(value).astimezone(BRUSSELS)
    if isinstance(context.get("valid_on"), str):
        values["valid_on"] = date.fromisoformat(context["valid_on"])
    if context.get("price_eur") is not None:
        values["price_eur"] = Decimal(str(context["price_eur"]))
    return values


def origin_label(context: dict[str, Any], language: str) -> str:
    """The departure station in the reader's language, falling back to the other one, then to its id."""
    fr, nl = context.get("origin_name_fr"), context.get("origin_name_nl")
    if language == "fr":
        return str(fr or nl or context["origin_station_id"])
    if language == "nl":
        return str(nl or fr or context["origin_station_id"])
    names = list(dict.fromkeys(n for n in (nl, fr) if n))
    return " / ".join(names) or context["origin_station_id"]


@functools.cache
def _template(kind: str, language: str, *, html: bool) -> Template:
    """Compiled once per process: templates ship with the code, so nothing is checked for changes."""
    return _environment(html=html).get_template(template_name(kind, language))


@functools.cache
def _environment(*, html: bool) -> Environment:
    # Autoescape only where the output is HTML: a name like "Anne & Bob" stays readable in text.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(day=_day, time=_time, money=_money)
    env.globals.update(address=ADDRESS, station=STATION)
    return env


# Babel formats each value anew (about 0.1 ms a date); the emails of a session all show the same few
# dates, times and price, so each is formatted once per language.
@pass_context
def _day(context: Context, value: date) -> str:
    # A datetime shows its own calendar day: the cache must not take it for an equal instant elsewhere.
    return _formatted_day(value.date() if isinstance(value, datetime) else value, context["lang"])


@pass_context
def _time(context: Context, value: datetime) -> str:
    return _formatted_time(value, context["lang"])


@pass_context
def _money(context: Context, value: Decimal) -> str:
    return _formatted_money(value, context["lang"])


@functools.lru_cache(maxsize=4096)
def _formatted_day(value: date, language: str) -> str:
    return format_date(value, "full", locale=LOCALES[language])


@functools.lru_cache(maxsize=4096)
def _formatted_time(value: datetime, language: str) -> str:
    return format_time(value, "HH:mm", tzinfo=BRUSSELS, locale=LOCALES[language])


@functools.lru_cache(maxsize=64)
def _formatted_money(value: Decimal, language: str) -> str:
    return format_currency(value, "EUR", locale=LOCALES[language])
