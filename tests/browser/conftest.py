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


def log_in_demo(driver, username: str) -> None:
    """Log in through the login page as one of the demo's users (the `demo` fixture)."""
    from selenium.webdriver.common.by import By

    from seed.demo import DEMO_PASSWORD

    driver.get(driver.live_server_url + "/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(DEMO_PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "button.primary").click)


def screenshot(driver, name: str) -> Path:
    """Save what the browser shows (tests/browser/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


# The Jambi demo as the journeys find it: loaded by the first journey that asks for it (load_demo,
# ~19 s on SQLite), copied, and given back to each later one (its database was flushed after the
# previous test, as every live-server test's is) in about a second.
_DEMO_COPY: dict[str, object] = {}


@pytest.fixture
def demo(transactional_db) -> None:
    """The Jambi demo (seed.demo: pmd.jambi, pmd.bungo, bpjs.muarabungo, viewer.jambi with
    DEMO_PASSWORD), as `call_command("load_demo")` leaves it, in this test's database."""
    import io

    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    key = connection.settings_dict["NAME"]
    if key in _DEMO_COPY:
        _restore(_DEMO_COPY[key])
    else:
        call_command("load_demo", stdout=io.StringIO())
        _DEMO_COPY[key] = _copy()
    ContentType.objects.clear_cache()  # the flush made new content types; the copy has the demo's


def _copy() -> object:
    """The whole database: SQLite's pages through its backup API; PostgreSQL's tables as COPY
    streams (binary, in memory)."""
    import sqlite3

    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        return copy
    tables: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
            data = bytearray()
            with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} TO STDOUT (FORMAT BINARY)") as stream:
                for chunk in stream:
                    data += chunk
            tables[table] = bytes(data)
    return tables


def _restore(copy: object) -> None:
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        copy.backup(connection.connection)
        return
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(quote(table) for table in copy) + " CASCADE")
        for table, data in copy.items():
            with cursor.cursor.copy(f"COPY {quote(table)} FROM STDIN (FORMAT BINARY)") as stream:
                stream.write(data)
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
