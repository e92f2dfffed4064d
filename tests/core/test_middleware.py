"""A project error that a page view did not catch answers with its own 4xx page, never a 500."""

from __future__ import annotations

import pytest
from django.urls import include, path

from governance.core.exceptions import ConflictError, NotFoundError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def _raises(error):
    def view(request):
        raise error

    return view


class Urls:
    urlpatterns = [
        path("pages/denied/", _raises(PermissionDeniedError("Only the system's risk officer may decide this."))),
        path("pages/gone/", _raises(NotFoundError("No such incident."))),
        path("pages/conflict/", _raises(ConflictError("This request was decided already."))),
        path("api/v1/denied/", _raises(PermissionDeniedError("Only the system's risk officer may decide this."))),
        path("", include("governance.urls")),  # the page's menu links
    ]


@pytest.fixture
def signed_in(client, personas, settings):
    settings.ROOT_URLCONF = Urls
    client.force_login(personas["carla"])
    return client


@pytest.mark.parametrize("url, status, title", [
    ("/pages/denied/", 403, "Not allowed"), ("/pages/gone/", 404, "Not found"), ("/pages/conflict/", 409, "Conflict"),
])
def test_an_uncaught_project_error_on_a_page_answers_with_its_status_and_message(signed_in, url, status, title):
    response = signed_in.get(url)

    assert response.status_code == status
    html = response.content.decode()
    assert f"<h1>{title}</h1>" in html and response.templates[0].name == "core/error.html"


def test_the_page_shows_the_errors_message_escaped(signed_in):
    html = signed_in.get("/pages/denied/").content.decode()

    assert "Only the system&#x27;s risk officer may decide this." in html


def test_api_paths_are_left_to_the_apis_own_error_handler(signed_in):
    with pytest.raises(PermissionDeniedError):  # a plain Django view under /api/ is not turned into a page
        signed_in.get("/api/v1/denied/")
