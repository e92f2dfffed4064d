"""The docs pages are the app's own: ReDoc's bundle is the sidecar's, less its one CDN request."""

from pathlib import Path

from django.contrib.staticfiles import finders

from governance.core.docs import NO_IMAGE, REDOC_BUNDLE, REDOC_CDN_LOGO


def test_redocs_bundle_is_the_sidecars_with_the_cdn_logo_replaced(client):
    original = Path(finders.find(REDOC_BUNDLE)).read_text(encoding="utf-8")
    assert original.count(REDOC_CDN_LOGO) == 1  # a new ReDoc that fetches more, or differently, fails here
    r = client.get("/api/redoc/redoc.standalone.js")
    assert r.status_code == 200 and r["Content-Type"] == "application/javascript; charset=utf-8"
    served = r.content.decode("utf-8")
    assert REDOC_CDN_LOGO not in served
    assert served == original.replace(REDOC_CDN_LOGO, NO_IMAGE)


def test_the_redoc_page_asks_for_no_web_font():
    from django.template.loader import render_to_string

    html = render_to_string("api/redoc.html", {"redoc_standalone": "/x.js", "schema_url": "/api/schema/"})
    assert "fonts.googleapis.com" not in html and "https://" not in html
    assert '<script src="/x.js"></script>' in html
