"""gunicorn's settings for the web process: `gunicorn -c deploy/gunicorn.conf.py governance.wsgi:application`.

gunicorn has no setting for its `Server: gunicorn` header, and naming the server and its family
only helps whoever looks for a known hole; the response class below drops the header. gunicorn
builds every response from `gunicorn.http.wsgi.Response`, and this file is read by the master
before it forks, so every worker answers without it (tests/deploy/test_gunicorn.py).
"""

import gunicorn.http.wsgi

bind = "0.0.0.0:8000"
workers = 4
timeout = 60


class _Response(gunicorn.http.wsgi.Response):
    def default_headers(self):
        return [h for h in super().default_headers() if not h.lower().startswith("server:")]


gunicorn.http.wsgi.Response = _Response
