"""Subjects and bodies of each message kind, in French, Dutch and English."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")

SUBJECTS = {
    "registration_confirmed": {
        "fr": "Inscription confirmée : {title}",
        "nl": "Inschrijving bevestigd: {title}",
        "en": "Registration confirmed: {title}",
    },
    "voucher_issued": {
        "fr": "Votre billet de train pour Bruxelles-Central : {code}",
        "nl": "Je treinticket naar Brussel-Centraal: {code}",
        "en": "Your train voucher to Brussels-Central: {code}",
    },
}

BODIES = {
    "registration_confirmed": {
        "fr": "Bonjour {name},\n\nVotre place est réservée : {title}, le {when}, {room}.\n"
        "Code d'inscription : {code}\n\nÀ bientôt à la gare de Bruxelles-Central !\n",
        "nl": "Hallo {name},\n\nJe plaats is gereserveerd: {title}, op {when}, {room}.\n"
        "Inschrijvingscode: {code}\n\nTot binnenkort in het station Brussel-Centraal!\n",
        "en": "Hello {name},\n\nYour seat is booked: {title}, on {when}, {room}.\n"
        "Registration code: {code}\n\nSee you at Brussels-Central station!\n",
    },
    "voucher_issued": {
        "fr": "Bonjour {name},\n\nVotre billet aller-retour vers Bruxelles-Central ({price_eur} EUR)"
        " est valable le {valid_on}.\nCode : {code}\n",
        "nl": "Hallo {name},\n\nJe retourticket naar Brussel-Centraal ({price_eur} EUR)"
        " is geldig op {valid_on}.\nCode: {code}\n",
        "en": "Hello {name},\n\nYour round-trip voucher to Brussels-Central ({price_eur} EUR)"
        " is valid on {valid_on}.\nCode: {code}\n",
    },
}


def render(kind: str, language: str, name: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and plain-text body of one message."""
    values = dict(context, name=name)
    if "starts_at" in context:
        starts = datetime.fromisoformat(context["starts_at"]).astimezone(BRUSSELS)
        values["when"] = starts.strftime("%d/%m/%Y %H:%M")
    return SUBJECTS[kind][language].format(**values), BODIES[kind][language].format(**values)


def build_email(*, sender: str, to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = subject
    email["Message-ID"] = message_id
    email.set_content(body)
    return email
