"""The API's docs render with the network cut off: Swagger UI and ReDoc come from the app's own
static files (drf-spectacular-sidecar), and Chromium's network log shows that no request left
the live server.

This browser is its own, not the session's: it records every request (the performance log) and
resolves no host but the live server's, as a machine without Internet access would."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Page, chromium

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Every other name fails to resolve, so a page that needs a CDN breaks here as it would offline.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


@pytest.fixture(scope="module")
def offline_browser():
    with chromium(OFFLINE, capabilities={"goog:loggingPrefs": {"performance": "ALL"}}) as driver:
        yield driver


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (Network.requestWillBeSent in the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def left_the_machine(urls) -> list[str]:
    return [u for u in urls if urlsplit(u).scheme not in {"data", "blob", "about"}
            and urlsplit(u).hostname not in LOCAL_HOSTS]


@pytest.fixture
def docs(offline_browser, live_server):
    page = Page(offline_browser, live_server.url)
    requested_urls(offline_browser)  # start from an empty log
    return page


def test_swagger_ui_renders_the_api_and_nothing_leaves_the_machine(docs, personas):
    docs.sign_in("carla")
    requested_urls(docs.driver)
    docs.go("/api/docs/")
    title = docs.wait_for(lambda: docs.find(".swagger-ui .info .title").text, what="Swagger UI's title")
    assert title.startswith("AI Governance API")
    docs.wait_for(lambda: len(docs.find_all(".swagger-ui .opblock")) > 20, what="the operations")
    paths = {e.text for e in docs.find_all(".swagger-ui .opblock-summary-path")}
    assert {"/api/v1/gate/public-key/", "/api/v1/assessments/", "/api/v1/versions/"} <= paths, paths
    docs.screenshot("api-docs-swagger")
    urls = requested_urls(docs.driver)
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in u for u in urls), urls
    assert any(urlsplit(u).path == "/api/schema/" for u in urls), urls
    assert left_the_machine(urls) == []


def test_redoc_renders_the_api_and_nothing_leaves_the_machine(docs):
    docs.go("/api/redoc/")
    docs.wait_for(lambda: "AI Governance API" in docs.find("h1").text, what="ReDoc's title")
    docs.wait_for(lambda: "/api/v1/gate/public-key/" in docs.driver.page_source, what="the operations")
    docs.screenshot("api-docs-redoc")
    urls = requested_urls(docs.driver)
    assert any(urlsplit(u).path == "/api/redoc/redoc.standalone.js" for u in urls), urls
    assert left_the_machine(urls) == []
