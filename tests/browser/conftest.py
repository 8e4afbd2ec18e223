"""A real browser for the portal's journeys: Debian's chromium driven by Selenium through
chromedriver (`.ci/run` installs both with apt). Without them the journeys are skipped, saying so."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# An office laptop's screen, and a phone's.
LAPTOP = (1366, 768)
PHONE = (390, 844)


def _binary(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    browser, driver = _binary("chromium", "chromium-browser"), _binary("chromedriver")
    if browser is None or driver is None:
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver); not found here")
    return browser, driver


@pytest.fixture
def browser(chromium, live_server) -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-US"):
        options.add_argument(argument)  # English, as a browser whose user never chose: the portal must not follow it
    options.add_argument(f"--window-size={LAPTOP[0]},{LAPTOP[1]}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(5)
    driver.live_server_url = live_server.url
    try:
        yield driver
    finally:
        driver.quit()


def navigate(driver, action) -> None:
    """Do `action` (a click that loads a page) and wait until a new document has replaced the old
    and finished loading: looking for an element before that may find the old page's, gone a
    moment later. The old document is marked; the new one has no mark (no element of the old
    one is kept: asking one that is gone fails in more ways than one)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.ucjOldPage = true;")
    action()
    # Asked while the page is changing, the script itself may fail: ask again.
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return !window.ucjOldPage && document.readyState === 'complete';")
    )


def screenshot(driver, name: str) -> Path:
    """Save what the browser shows (tests/browser/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
