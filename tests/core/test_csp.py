"""Every page carries a Content-Security-Policy: scripts and <style> elements only from the app
or with the request's nonce; the API docs pages get their own policy for their inserted styles."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


def test_a_page_allows_no_inline_script_or_style_element(personas):
    page = Client()
    page.force_login(personas["carla"])
    response = page.get("/systems/")
    p = policy(response)
    assert p["default-src"] == ["'self'"] and p["object-src"] == ["'none'"] and p["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in p["script-src"] and "'unsafe-inline'" not in p["style-src-elem"]
    # the page's own <script>/<style> elements load from the app; none is inline without the nonce
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)", html)
    assert not re.search(r"<style(?![^>]*\bnonce=)", html)


def test_the_login_page_has_the_policy_too():
    assert "script-src 'self'" in Client().get("/login/")["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_allow_the_styles_they_insert_and_no_inline_script_without_the_nonce(url):
    response = Client().get(url)
    p = policy(response)
    assert p["style-src-elem"] == ["'self'", "'unsafe-inline'"] and p["worker-src"] == ["'self'", "blob:"]
    assert "'unsafe-inline'" not in p["script-src"]
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", " ".join(p["script-src"]))
    for script in re.findall(r"<script[^>]*>", html):
        assert "src=" in script or (nonce and f'nonce="{nonce.group(1)}"' in script), script


def test_swagger_ui_takes_its_set_up_script_from_the_app():
    response = Client().get("/api/docs/?script")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")


@pytest.mark.parametrize("url", ["/systems/", "/systems/credit/", "/inbox/", "/controls/ai-rmf/MEASURE%202.11/"])
def test_pages_need_no_style_attribute_and_the_policy_applies_none(client, credit_system, personas, url):
    client.force_login(personas["carla"])
    response = client.get(url, follow=True)
    assert response.status_code == 200
    assert policy(response)["style-src-attr"] == ["'none'"]
    html = response.content.decode()
    # Classes from app.css instead; SVG presentation attributes (width=, fill=) are not style attributes.
    assert not re.search(r"<[^>]+\sstyle=", html), re.search(r"<[^>]+\sstyle=[^>]*>", html).group(0)
    assert not re.search(r"<style(?![^>]*\bnonce=)", html)
    # nor an inline event handler, which script-src refuses (the Print buttons once had one)
    assert not re.search(r"<[^>]+\son[a-z]+=", html), re.search(r"<[^>]+\son[a-z]+=[^>]*>", html).group(0)


def test_the_browsable_api_lets_its_own_style_attributes_apply(api):
    response = api("carla").get("/api/v1/systems/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert policy(response)["style-src-attr"] == ["'unsafe-inline'"]
    assert "'unsafe-inline'" not in policy(response)["script-src"]
