"""Generated requests against the OpenAPI schema: the API never answers 5xx, and what it answers
fits the schema it publishes.

Schemathesis reads /api/schema/ from the app itself and calls it in-process (WSGI), inside the
test's transaction, as the admin persona (every permission check passes, so the requests reach
the validation behind them) and, on the endpoints deploy pipelines call, with a pipeline token
that holds every scope. Both valid (positive) and invalid (negative) inputs are generated, a
bounded number per operation and mode, derandomized so that a failure reproduces on every run.
"""

from __future__ import annotations

import logging

import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from audits.drift.services import drift_schedule_set
from audits.runs.services import audit_run_create
from governance.approvals.services import approval_request_create
from governance.registry.models import TokenScope
from governance.registry.tokens import pipeline_token_create

pytestmark = pytest.mark.django_db

# Per operation and generation mode; about 40 operations x 2 modes. Enough to have found every
# 500 and schema violation of the issue, and a run stays within the CI budget on 2 cores.
MAX_EXAMPLES = 12
PIPELINE_PATHS = ("/api/v1/gate/", "/api/v1/batches/", "/api/v1/rollback/")


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, called inside the test's transaction: as Django's test client does, the
    handler must not close the connection at the end of each request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def gate_key(settings):
    """A signing key for the gate: without one the gate answers 503 by design (not configured)."""
    private = ed25519.Ed25519PrivateKey.generate()
    settings.GATE_SIGNING_KEY = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def test_generated_requests_never_get_a_5xx_nor_break_the_schema(credit_system, personas, gate_key, wsgi_app, caplog,
                                                                 capsys):
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of expected 4xx lines otherwise
    from rest_framework.authtoken.models import Token

    user_token = Token.objects.get_or_create(user=personas["root"])[0].key
    _, pipeline_token = pipeline_token_create(name="schemathesis", scopes=[s for s, _ in TokenScope.choices],
                                              systems=["credit"])
    # A row of each kind the reads list, so that their answers are checked against the schema
    # (nullable fields among them: a queued run, a schedule that never ran, an unsubmitted request).
    system, version = credit_system
    alice = personas["alice"]
    audit_run_create(actor=alice, version=version, kind="fairness")
    drift_schedule_set(actor=alice, system=system, version=version, crontab="@daily")
    approval_request_create(actor=alice, version=version, environment="staging",
                            justification="first release, eyes open", submit=False, acknowledge=True)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    requests_made = 0
    failures: list[str] = []

    for operation in _operations(schema):
        token = pipeline_token if operation.path.startswith(PIPELINE_PATHS) else user_token
        headers = {"Authorization": f"Token {token}"}
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), phases=["explicit", "generate"])
            def call(case):
                nonlocal requests_made
                response = case.call(headers=headers)
                requests_made += 1
                try:
                    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                except (AssertionError, FailureGroup) as exc:  # a FailureGroup is not an Exception
                    failures.append(f"{operation.label} ({mode}): {str(exc)[:1500]}")
                    raise

            try:
                call()
            except (AssertionError, FailureGroup):  # recorded above; go on to the next operation
                pass
            except Unsatisfiable:  # nothing invalid to send (an operation without parameters or body)
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label

    with capsys.disabled():  # printed in CI's log too, where pytest captures output
        print(f"\nschemathesis: {requests_made} requests, {len(failures)} failing operation(s)")
    assert requests_made > 0
    assert not failures, "\n\n".join(failures)
