"""A WSGI app with nothing of its own to say, for testing the gunicorn configuration alone."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
