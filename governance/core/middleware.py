"""Pages answer a project error with its own 4xx, never a 500.

Views catch the errors they expect and show them beside the form; one they did not expect (a
permission a service checks deeper down, a row gone since the page was loaded) still carries
its status and message. The API has its own handler (errors.py), so API paths are left to it.
"""

from __future__ import annotations

from django.shortcuts import render

from governance.core.exceptions import ApplicationError

TITLES = {400: "Not accepted", 403: "Not allowed", 404: "Not found", 409: "Conflict", 413: "Too large",
          429: "Too many requests"}


class ApplicationErrorPages:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        status = exception.status_code
        return render(request, "core/error.html", {"title": TITLES.get(status, "Not accepted"),
                                                    "message": exception.message}, status=status)
