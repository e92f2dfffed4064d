"""Browser tests: Debian's headless Chromium driven by Selenium, against pytest-django's
live_server, with a real Celery worker subprocess on the same (file) test database.

One browser serves the whole session and one worker the module (each costs seconds to start);
each test gets a fresh database (transactional_db) and signs in as the personas it needs.

Screenshots, print-to-PDF output and their PNG renderings go to tests/e2e/screenshots/
(git-ignored): look at them after a change to a page.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from audits.runs.worker import start_worker

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000",
         "--force-device-scale-factor=1", "--lang=en-GB"]
SHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = Path(settings.BASE_DIR) / "governance" / "core" / "static" / "vendor" / "axe-4.14.1.min.js"
# WCAG 2.1 A and AA rules; a page passes when axe finds nothing serious or critical.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def _must_fail() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or os.environ.get("REQUIRE_BROWSER") == "1"


@contextmanager
def chromium(*flags: str, capabilities: dict | None = None):
    """A headless Chromium with its own profile, quit and removed afterwards; skipped (failed
    in CI) when Chromium or its driver is missing."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian: apt-get install chromium chromium-driver; make test does)"
        if _must_fail():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="e2e-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, *flags, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    SHOTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    # The console log is kept, so that a test can read the policy violations Chromium reports there.
    with chromium(capabilities={"goog:loggingPrefs": {"browser": "ALL"}}) as driver:
        yield driver


@pytest.fixture(scope="session")
def e2e_media(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-media")


@pytest.fixture(autouse=True)
def _media_root(settings, e2e_media):
    """The live server and the worker must read the same uploads folder."""
    settings.MEDIA_ROOT = e2e_media


@pytest.fixture(scope="module")
def e2e_worker(django_db_setup, django_db_blocker, e2e_media, tmp_path_factory):
    """A real `celery worker` on the test database. Module-scoped: it must be gone before other
    suites (tests/integration) start workers of their own on the same broker queues."""
    from tests.integration.conftest import database_url

    with django_db_blocker.unblock():
        url = database_url()
    log_path = tmp_path_factory.mktemp("e2e-worker") / "worker.log"
    proc = start_worker(queues="cpu,gpu", log_path=log_path, env={
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "governance.test_settings", "MEDIA_ROOT": str(e2e_media),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    })
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    if os.environ.get("SHOW_WORKER_LOG"):
        print(log_path.read_text())


class Page:
    """A thin helper over the Selenium driver: sign in, fill forms, scan, screenshot."""

    def __init__(self, driver, base_url: str):
        self.driver, self.base = driver, base_url

    def go(self, path: str):
        self.driver.get(self.base + path)
        return self

    @property
    def path(self) -> str:
        return self.driver.current_url[len(self.base):]

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def fill(self, fields: dict):
        for css, value in fields.items():
            element = self.find(css)
            if element.get_attribute("type") != "file":
                element.clear()
            element.send_keys(str(value))
        return self

    def submit(self, css: str = "main form button[type=submit]"):
        self.find(css).click()
        return self

    def sign_in(self, username: str, password: str | None = None):
        self.driver.delete_all_cookies()
        self.go("/login/")
        self.fill({"#id_username": username, "#id_password": password or f"pw-{username}"})
        self.submit("main form button[type=submit]")
        self.wait_for(lambda: not self.path.startswith("/login/"), what=f"{username} to sign in")
        return self

    def wait_for(self, predicate, *, timeout: float = 30, interval: float = 0.2, what: str = "the page"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = predicate()
            except Exception:  # noqa: BLE001 - the page may be mid-reload (stale element)
                value = None
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (at {self.path})")

    def axe(self) -> list[dict]:
        """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the current page."""
        if not self.driver.execute_script("return !!window.axe"):
            self.driver.execute_script(AXE.read_text(encoding="utf-8"))
        self.driver.set_script_timeout(60)
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
            ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
            AXE_TAGS)
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n.get("target") for n in v.get("nodes", [])][:5]}
                for v in result if v.get("impact") in BLOCKING]

    def screenshot(self, name: str, *, full: bool = True) -> Path:
        path = SHOTS / f"{name}.png"
        if full:  # the whole page, not just the first screenful (the window also holds browser chrome)
            height, chrome = self.driver.execute_script(
                "return [Math.min(document.documentElement.scrollHeight, 8000), window.outerHeight - window.innerHeight]")
            self.driver.set_window_size(1400, max(1000, height + chrome))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1400, 1000)
        return path

    def print_pdf(self, name: str) -> Path:
        """Chromium's print-to-PDF (the print stylesheet), plus a PNG of its first page to look at."""
        import base64

        from selenium.webdriver.common.print_page_options import PrintOptions

        options = PrintOptions()
        options.orientation = "landscape"
        options.background = True
        path = SHOTS / f"{name}.pdf"
        path.write_bytes(base64.b64decode(self.driver.print_page(options)))
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(path), str(SHOTS / f"{name}-print")],
                           check=False, timeout=60)
        return path


@pytest.fixture
def page(browser, live_server, transactional_db):
    return Page(browser, live_server.url)


def dump(violations) -> str:
    return json.dumps(violations, indent=1)
