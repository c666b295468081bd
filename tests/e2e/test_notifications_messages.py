"""Every kind of participant email, in each language, as the SMTP server receives it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.mail import received_for, wait_for_mail
from atelier_devkit.publishing import publish, republish
from notifications import kinds
from notifications.outgoing import message_id_for
from support.email_parts import calendar_entries, decode_qr, images, only_event, plain_text

TITLE = events.TITLES
SUBJECTS = {
    "fr": {
        kinds.REGISTRATION_CONFIRMED: f"Inscription confirmée : {TITLE['fr']}",
        kinds.SESSION_CHANGED: f"Changement de séance : {TITLE['fr']}",
        kinds.REGISTRATION_CANCELLED: f"Inscription annulée : {TITLE['fr']}",
        kinds.REGISTRATION_WAITLISTED: f"Liste d'attente : {TITLE['fr']}",
        kinds.REGISTRATION_PROMOTED: f"Une place s'est libérée pour vous : {TITLE['fr']}",
        kinds.REGISTRATION_CANCELLED_BY_ORGANISER: f"Annulation par l'Atelier : {TITLE['fr']}",
        kinds.VOUCHER_ISSUED: "Votre billet de train pour Bruxelles-Central : {code}",
        kinds.VOUCHER_VOIDED: "Votre billet de train {code} n'est plus valable",
        kinds.VOUCHER_REJECTED: "Votre billet de train n'a pas pu être émis",
    },
    "nl": {
        kinds.REGISTRATION_CONFIRMED: f"Inschrijving bevestigd: {TITLE['nl']}",
        kinds.SESSION_CHANGED: f"Je sessie is gewijzigd: {TITLE['nl']}",
        kinds.REGISTRATION_CANCELLED: f"Inschrijving geannuleerd: {TITLE['nl']}",
        kinds.REGISTRATION_WAITLISTED: f"Wachtlijst: {TITLE['nl']}",
        kinds.REGISTRATION_PROMOTED: f"Er is een plaats vrijgekomen voor jou: {TITLE['nl']}",
        kinds.REGISTRATION_CANCELLED_BY_ORGANISER: f"Geannuleerd door Atelier: {TITLE['nl']}",
        kinds.VOUCHER_ISSUED: "Je treinticket naar Brussel-Centraal: {code}",
        kinds.VOUCHER_VOIDED: "Je treinticket {code} is niet meer geldig",
        kinds.VOUCHER_REJECTED: "Je treinticket kon niet worden uitgegeven",
    },
    "en": {
        kinds.REGISTRATION_CONFIRMED: f"Registration confirmed: {TITLE['en']}",
        kinds.SESSION_CHANGED: f"Your session has changed: {TITLE['en']}",
        kinds.REGISTRATION_CANCELLED: f"Registration cancelled: {TITLE['en']}",
        kinds.REGISTRATION_WAITLISTED: f"Waiting list: {TITLE['en']}",
        kinds.REGISTRATION_PROMOTED: f"A seat is now yours: {TITLE['en']}",
        kinds.REGISTRATION_CANCELLED_BY_ORGANISER: f"Cancelled by Atelier: {TITLE['en']}",
        kinds.VOUCHER_ISSUED: "Your train voucher to Brussels-Central: {code}",
        kinds.VOUCHER_VOIDED: "Your train voucher {code} is no longer valid",
        kinds.VOUCHER_REJECTED: "We could not issue your train voucher",
    },
}


def subjects(language: str, *message_kinds: str, code: str = "") -> list[str]:
    return sorted(SUBJECTS[language][kind].format(code=code) for kind in message_kinds)


def subject_of(message) -> str:
    # A subject folded whole onto a continuation line is valid; Python's parser keeps its leading space.
    return str(message["Subject"]).strip()


def received_subjects(maildir: str, address: str) -> list[str]:
    return sorted(subject_of(m) for m in received_for(maildir, address))


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
async def test_a_seat_its_voucher_a_session_change_and_a_cancellation_each_reach_the_participant_in_their_language(
    infra, services, language
):
    bootstrap, maildir, email = infra["KAFKA_BOOTSTRAP_SERVERS"], infra["SMTP_MAILDIR"], unique_email()
    at = events.session(language=language)
    seated = events.confirmed(email, language=language, at=at)
    issued = events.ticket_issued(seated.registration_id)
    await publish(bootstrap, seated, issued)
    arrived = await wait_for_mail(maildir, email, count=2, timeout=60)
    confirmation = next(m for m in arrived if subject_of(m) == SUBJECTS[language][kinds.REGISTRATION_CONFIRMED])

    later = at.starts_at + timedelta(days=1, hours=2)
    await publish(bootstrap, events.session_changed(at, starts_at=later, room="Room 5"))
    await wait_for_mail(maildir, email, count=3, timeout=60)
    await publish(bootstrap, events.ticket_voided(issued), events.cancelled(seated))
    mails = await wait_for_mail(maildir, email, count=5, timeout=60)

    assert received_subjects(maildir, email) == subjects(
        language,
        kinds.REGISTRATION_CONFIRMED,
        kinds.VOUCHER_ISSUED,
        kinds.SESSION_CHANGED,
        kinds.VOUCHER_VOIDED,
        kinds.REGISTRATION_CANCELLED,
        code=issued.code,
    )
    assert {m["Content-Language"] for m in mails} == {language}
    assert all(plain_text(m).startswith({"fr": "Bonjour", "nl": "Hallo", "en": "Hello"}[language]) for m in mails)

    first = only_event(calendar_entries(confirmation)[0])
    assert first.decoded("dtstart") == at.starts_at and first.decoded("dtend") == at.ends_at
    assert str(first["dtstart"].params["TZID"]) == "Europe/Brussels"
    changed = next(m for m in mails if subject_of(m) == SUBJECTS[language][kinds.SESSION_CHANGED])
    [calendar] = calendar_entries(changed)
    update = only_event(calendar)
    assert update["uid"] == first["uid"] and update.decoded("sequence") == first.decoded("sequence") + 1
    assert update.decoded("dtstart") == later and "Room 5" in str(update["location"])
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]

    voucher_subject = SUBJECTS[language][kinds.VOUCHER_ISSUED].format(code=issued.code)
    voucher = next(m for m in mails if subject_of(m) == voucher_subject)
    [qr] = images(voucher)
    assert decode_qr(qr.get_content()) == [issued.qr_payload]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
async def test_the_waiting_line_a_promotion_an_organisers_cancellation_and_a_refused_voucher_are_told(
    infra, services, language
):
    bootstrap, maildir = infra["KAFKA_BOOTSTRAP_SERVERS"], infra["SMTP_MAILDIR"]
    waiting_email, rejected_email = unique_email(), unique_email()
    waiting = events.waitlisted(waiting_email, language=language, position=2)
    rejected = events.confirmed(rejected_email, language=language)
    rejection = events.ticket_rejected(rejected.registration_id)
    await publish(bootstrap, waiting, events.promoted(waiting), rejected, rejection)
    await wait_for_mail(maildir, waiting_email, count=2, timeout=60)
    await publish(bootstrap, events.cancelled(waiting, by="organiser", reason="Trainer ill"))
    mails = await wait_for_mail(maildir, waiting_email, count=3, timeout=60)
    await wait_for_mail(maildir, rejected_email, count=2, timeout=60)

    assert received_subjects(maildir, waiting_email) == subjects(
        language, kinds.REGISTRATION_WAITLISTED, kinds.REGISTRATION_PROMOTED, kinds.REGISTRATION_CANCELLED_BY_ORGANISER
    )
    assert received_subjects(maildir, rejected_email) == subjects(
        language, kinds.REGISTRATION_CONFIRMED, kinds.VOUCHER_REJECTED
    )
    by_subject = {subject_of(m): m for m in mails}
    assert " 2" in plain_text(by_subject[SUBJECTS[language][kinds.REGISTRATION_WAITLISTED]])
    assert "Trainer ill" in plain_text(by_subject[SUBJECTS[language][kinds.REGISTRATION_CANCELLED_BY_ORGANISER]])
    assert calendar_entries(by_subject[SUBJECTS[language][kinds.REGISTRATION_PROMOTED]])  # now holds a seat


async def test_a_redelivered_event_sends_nothing_more_and_the_message_id_comes_from_its_cause(infra, services):
    bootstrap, maildir, email = infra["KAFKA_BOOTSTRAP_SERVERS"], infra["SMTP_MAILDIR"], unique_email()
    seated = events.confirmed(email)
    [event] = await publish(bootstrap, seated)
    [first] = await wait_for_mail(maildir, email, count=1, timeout=60)
    await republish(bootstrap, (seated, event))
    await asyncio.sleep(3)  # room for a wrong second email to arrive

    assert [m["Message-ID"] for m in received_for(maildir, email)] == [first["Message-ID"]]
    assert first["Message-ID"] == message_id_for(event.id, kinds.REGISTRATION_CONFIRMED)


async def test_the_admin_log_shows_what_was_sent_and_when_behind_its_token(infra, services):
    email = unique_email()
    seated = events.confirmed(email)
    await publish(infra["KAFKA_BOOTSTRAP_SERVERS"], seated)
    await wait_for_mail(infra["SMTP_MAILDIR"], email, count=1, timeout=60)
    url = f"{services['notifications']}/admin/messages"
    params = {"registration_id": str(seated.registration_id)}
    async with httpx.AsyncClient() as client:
        for _ in range(20):  # the email is out; its status row is committed right after
            response = await client.get(
                url, params=params, headers={"Authorization": f"Bearer {infra['NOTIFICATIONS_ADMIN_TOKEN']}"}
            )
            if response.json()["messages"][0]["status"] == "sent":
                break
            await asyncio.sleep(0.25)
        anonymous = await client.get(url, params=params)
        wrong = await client.get(url, params=params, headers={"Authorization": "Bearer wrong"})

    assert response.status_code == 200
    body = response.json()
    [message] = body["messages"]
    assert (message["kind"], message["status"], message["attempts"]) == (kinds.REGISTRATION_CONFIRMED, "sent", 1)
    assert message["subject"] == "Registration confirmed: SEO basics" and message["sent_at"] is not None
    assert body["reminder"]["status"] == "scheduled"
    assert anonymous.status_code == 401 and wrong.status_code == 403
