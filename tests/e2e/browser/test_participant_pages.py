"""A participant in a real browser: programme, registration with a train voucher, the email's link, the QR, cancel."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from atelier_devkit.api import create_session
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from support import independent_mail
from support.browser import (
    ARTIFACTS,
    AXE,
    qr_on_page,
    screenshot,
    serious_accessibility_violations,
    text_of,
    wait_until,
)
from support.email_parts import decode_qr

pytestmark = pytest.mark.e2e

# How each language is chosen: a link, then the cookie it leaves; Dutch comes from the browser's Accept-Language.
CHOSEN_BY = {"fr": "&lang=fr", "en": "&lang=en", "nl": ""}
STATION = {"fr": "Namur", "nl": "Namen", "en": "Namur"}  # in English the name is resolved by the server
CONFIRMED_SUBJECT = {"fr": "Inscription confirmée", "nl": "Inschrijving bevestigd", "en": "Registration confirmed"}
VOUCHER_SUBJECT = {"fr": "Votre billet de train", "nl": "Je treinticket", "en": "Your train voucher"}
CANCELLED_SUBJECT = {"fr": "Inscription annulée", "nl": "Inschrijving geannuleerd", "en": "Registration cancelled"}
WORD = {
    "confirmed": {"fr": "Inscription confirmée", "nl": "Inschrijving bevestigd", "en": "Registration confirmed"},
    "cancelled": {"fr": "Inscription annulée", "nl": "Inschrijving geannuleerd", "en": "Registration cancelled"},
    "seats": {"fr": "place(s) libre(s)", "nl": "plaats(en) vrij", "en": "seat(s) left"},
}


def no_serious_violations(driver) -> None:
    assert serious_accessibility_violations(driver, AXE) == []


def fill_registration(driver, name: str, email: str, *, station: str | None) -> None:
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "email").send_keys(email)
    if station:
        driver.find_element(By.ID, "wants-voucher").click()
        driver.find_element(By.ID, "station").send_keys(station)


def register(driver, web: str, session_id: str, name: str, email: str, station: str | None = None) -> str:
    driver.get(f"{web}/sessions/{session_id}/register")
    fill_registration(driver, name, email, station=station)
    driver.find_element(By.CSS_SELECTOR, "form.register button[type=submit]").click()
    wait_until(lambda: "/registrations/" in driver.current_url)
    return driver.current_url.split("/registrations/")[1].split("?")[0]


def tab_to(driver, element_id: str) -> bool:
    """One more Tab unless the focus is already on `element_id`."""
    if driver.switch_to.active_element.get_attribute("id") == element_id:
        return True
    driver.switch_to.active_element.send_keys(Keys.TAB)
    return False


def qr_facts(payload: str) -> dict:
    """The signed facts inside a voucher's QR payload (`<prefix>.<base64url json>.<signature>`)."""
    body = payload.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


async def new_session(services, infra, *, capacity: int, language: str) -> tuple[str, str]:
    """A new session's id, and its day's programme filter (the test stack's programme grows with every run)."""
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        session_id = await create_session(
            client, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"], capacity=capacity, language=language
        )
        session = (await client.get(f"{services['registration']}/sessions/{session_id}")).json()
    day = datetime.fromisoformat(session["starts_at"]).astimezone(ZoneInfo("Europe/Brussels")).date()
    return session_id, f"day={day}&language={language}"


@pytest.mark.parametrize("lang", ["fr", "nl", "en"])
async def test_a_participant_registers_with_a_voucher_opens_the_emailed_link_sees_the_qr_and_cancels(
    lang, services, infra, browser
):
    web, maildir = services["web"], infra["SMTP_MAILDIR"]
    session_id, that_day = await new_session(services, infra, capacity=3, language=lang)
    browser.delete_all_cookies()

    # The programme, in the language the participant chose (or their browser's).
    browser.get(f"{web}/?{that_day}{CHOSEN_BY[lang]}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    card = f"li[data-session-id='{session_id}']"
    assert text_of(browser, f"{card} .seats").startswith("3 ") and WORD["seats"][lang] in text_of(browser, card)
    screenshot(browser, ARTIFACTS, f"1-programme-{lang}")
    no_serious_violations(browser)

    # The form: a bad email is refused next to its field, in the page's language; nothing is registered.
    browser.find_element(By.CSS_SELECTOR, f"{card} a.button").click()
    email = f"web-{lang}-{uuid.uuid4().hex[:8]}@example.be"
    fill_registration(browser, "Léa Dubois-Peeters", "not-an-address", station=STATION[lang])
    if lang != "en":  # the page's script found the station and keeps its id
        wait_until(lambda: browser.find_element(By.ID, "station-id").get_attribute("value") == "008863008")
    browser.find_element(By.CSS_SELECTOR, "form.register button[type=submit]").click()
    error = wait_until(lambda: browser.find_elements(By.ID, "email-error"))[0]
    assert "@" in error.text and browser.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"
    screenshot(browser, ARTIFACTS, f"2-form-error-{lang}")
    no_serious_violations(browser)
    field = browser.find_element(By.ID, "email")
    field.clear()
    field.send_keys(email)
    browser.find_element(By.CSS_SELECTOR, "form.register button[type=submit]").click()

    # Registered: the page says so at once.
    wait_until(lambda: "/registrations/" in browser.current_url)
    registration_id = browser.current_url.split("/registrations/")[1].split("?")[0]
    assert WORD["confirmed"][lang] in text_of(browser, "#status")

    # The confirmation email's link opens this page in any browser: the token travels in the fragment only.
    confirmation = independent_mail.parse(await independent_mail.wait_for_raw(maildir, email, CONFIRMED_SUBJECT[lang]))
    [link] = re.findall(r"https?://\S+#token=\S+", confirmation.text_plain[0])
    assert link.startswith(f"{web}/registrations/{registration_id}?lang={lang}#token=")
    voucher_mail = await independent_mail.wait_for_raw(maildir, email, VOUCHER_SUBJECT[lang])
    browser.delete_all_cookies()
    browser.get(link)
    wait_until(lambda: browser.find_elements(By.ID, "status"))
    assert "#token" not in browser.current_url and "token=" not in browser.current_url
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang

    # The voucher with its QR code; the QR on screen holds the same signed payload as the email's.
    code = wait_until(lambda: browser.find_elements(By.ID, "voucher-code") or browser.refresh())[0].text
    screenshot(browser, ARTIFACTS, f"3-my-registration-{lang}")
    [on_screen] = qr_on_page(browser, "#voucher-qr")
    [emailed] = [p for p in independent_mail.parts(voucher_mail) if p.content_type == "image/png"]
    assert decode_qr(bytes(emailed.content)) == [on_screen]
    assert qr_facts(on_screen)["c"] == code and qr_facts(on_screen)["o"] == "008863008"
    no_serious_violations(browser)

    # The calendar file has the emails' UID.
    calendar_href = browser.find_element(By.CSS_SELECTOR, "a[download]").get_attribute("href")
    assert calendar_href.endswith(f"/registrations/{registration_id}/calendar.ics")

    # Cancel, with a confirmation step.
    browser.find_element(By.CSS_SELECTOR, "a.button.danger").click()
    wait_until(lambda: browser.current_url.endswith("/cancel"))
    screenshot(browser, ARTIFACTS, f"4-cancel-confirmation-{lang}")
    no_serious_violations(browser)
    browser.find_element(By.CSS_SELECTOR, "form button.danger").click()
    wait_until(lambda: "done=cancelled" in browser.current_url)
    assert WORD["cancelled"][lang] in text_of(browser, "#status")
    screenshot(browser, ARTIFACTS, f"5-cancelled-{lang}")

    # The cancellation email removes the calendar entry the confirmation added.
    cancellation = await independent_mail.wait_for_raw(maildir, email, CANCELLED_SUBJECT[lang])
    [(content_type, cancel)] = independent_mail.calendars(cancellation)
    [(_, booked)] = independent_mail.calendars(
        await independent_mail.wait_for_raw(maildir, email, CONFIRMED_SUBJECT[lang])
    )
    assert str(cancel["method"]) == "CANCEL" and 'method="CANCEL"' in content_type
    [added], [removed] = booked.walk("VEVENT"), cancel.walk("VEVENT")
    assert removed["uid"] == added["uid"] and removed.decoded("sequence") > added.decoded("sequence")


async def test_a_cancelled_seat_goes_to_the_first_person_waiting_and_the_form_works_by_keyboard(
    services, infra, browser
):
    web = services["web"]
    session_id, that_day = await new_session(services, infra, capacity=1, language="en")
    browser.delete_all_cookies()
    browser.get(f"{web}/?lang=en")

    first = register(browser, web, session_id, "Ada First", f"first-{uuid.uuid4().hex[:8]}@example.be")
    assert "Registration confirmed" in text_of(browser, "#status")
    # The second person uses the keyboard only: Tab reaches the form, Enter sends it.
    browser.get(f"{web}/sessions/{session_id}/register")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    wait_until(lambda: tab_to(browser, "name"), timeout=5)
    browser.switch_to.active_element.send_keys("Bo Second", Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "email"
    browser.switch_to.active_element.send_keys(f"second-{uuid.uuid4().hex[:8]}@example.be", Keys.ENTER)
    wait_until(lambda: "/registrations/" in browser.current_url)
    second = browser.current_url.split("/registrations/")[1].split("?")[0]
    assert "waiting line, position 1" in text_of(browser, "#status")

    browser.get(f"{web}/?{that_day}")
    assert "1 person(s) in the waiting line" in text_of(browser, f"li[data-session-id='{session_id}'] .seats")

    # Both registrations' pages stay open in this browser (one cookie per registration path).
    browser.get(f"{web}/registrations/{first}/cancel")
    browser.find_element(By.CSS_SELECTOR, "form button.danger").click()
    wait_until(lambda: "done=cancelled" in browser.current_url)

    browser.get(f"{web}/registrations/{second}")
    assert "Registration confirmed" in text_of(browser, "#status")
    screenshot(browser, ARTIFACTS, "6-promoted-from-the-waiting-line-en")
    browser.get(f"{web}/?{that_day}")
    assert text_of(browser, f"li[data-session-id='{session_id}'] .seats") == "Full — join the waiting line"


def test_the_api_pages_render_from_assets_served_by_the_service_itself(services, browser):
    service = "registration"  # one is enough: every service mounts the same pages from atelier_platform
    browser.get(f"{services[service]}/docs")
    title = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))[0]
    assert title.text.startswith(f"Atelier {service}")
    browser.get(f"{services[service]}/asyncapi")
    wait_until(lambda: f"Atelier {service}" in browser.find_element(By.TAG_NAME, "body").text)
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(services[service]) for url in loaded), loaded
