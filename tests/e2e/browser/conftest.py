"""The participant pages in a real headless Chromium (Debian's `chromium` + `chromium-driver`), driven by
Selenium, on the e2e session's services. `make browser-tools` installs the browser and axe-core; screenshots
go to `.local/test-artifacts/browser/` (git-ignored)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from support.browser import ARTIFACTS, AXE

PHONE = (412, 915)  # a common phone viewport, CSS pixels


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path and AXE.exists()):
        pytest.fail("browser tools missing: run `make browser-tools` (chromium, chromium-driver, axe-core)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={PHONE[0]},{PHONE[1]}")
    # The browser speaks Dutch first: a page without ?lang= and without cookie must follow it.
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl-BE,nl,en"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(20)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
