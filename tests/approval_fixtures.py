"""Fixtures and builders for the approval, gate, token and trail tests.

Versions and audit runs are created as rows directly: these tests are about approvals and
the gate, not about uploads or probes (tests/registry/ and
tests/runs/, tests/kinds/ cover those paths). Import with `from tests.approval_fixtures import *`.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from governance.gate import attestation

__all__ = [
    "policy_met", "request_approval", "decide", "eyes_open", "EYES_OPEN", "GATE_KEY", "gate_key", "make_system", "make_version", "passing_run", "make_run", "signed_report", "approve",
    "with_roles", "medium", "high", "STRICT_CHECKS", "UNDECIDED_CHECKS", "ACCEPTANCE_WHY",
    "inconclusive_approved", "PipelineClient",
]

GATE_KEY = attestation.generate_key()

STRICT_CHECKS = [
    {"metric": "demographic_parity_difference", "feature": "sex", "operator": "<=", "threshold": 0.1, "outcome": "pass",
     "explanation": "demographic parity difference on sex: 0.03 [0.01, 0.06] <= 0.1"},
    {"metric": "demographic_parity_ratio", "feature": "sex", "operator": ">=", "threshold": 0.8, "outcome": "pass",
     "explanation": "demographic parity ratio on sex: 0.95 [0.9, 0.99] >= 0.8"},
    {"metric": "equalized_odds_difference", "feature": "sex", "operator": "<=", "threshold": 0.2, "outcome": "pass",
     "explanation": "equalized odds difference on sex: 0.05 [0.02, 0.09] <= 0.2"},
]

# An inconclusive fairness run (the interval straddles 0.1) and a reason to accept it.
UNDECIDED_CHECKS = [dict(STRICT_CHECKS[0], outcome="inconclusive", value=0.07,
                         explanation="demographic parity difference on sex: 0.07 [0.01, 0.13] straddles 0.1"),
                    *STRICT_CHECKS[1:]]
ACCEPTANCE_WHY = "300 test rows: the interval [0.01, 0.13] straddles 0.10; re-evaluated on Q3 data."


@pytest.fixture
def gate_key(settings):
    settings.GATE_SIGNING_KEY = GATE_KEY.decode("ascii")
    return attestation.public_key_pem(GATE_KEY)


def make_system(owner, *, slug="credit", tier="high"):
    from governance.registry import services

    return services.system_create(actor=owner, name=slug.title(), slug=slug, purpose="Scores loans", risk_tier=tier)


def make_version(system, label="1.0.0", *, creator=None, minutes_ago=0):
    from governance.registry.models import ModelVersion

    version = ModelVersion.objects.create(
        system=system, version=label, artifact=f"artifacts/{label}.safetensors",
        artifact_sha256=hashlib.sha256(f"{system.slug}@{label}".encode()).hexdigest(), artifact_format="safetensors",
        created_by=creator or system.owner,
    )
    if minutes_ago:
        ModelVersion.objects.filter(pk=version.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return version


def make_run(version, *, outcome="pass", checks=None, days_ago=1, kind="fairness", params=None):
    from audits.runs.models import AuditRun, RunStatus

    finished = timezone.now() - timedelta(days=days_ago)
    return AuditRun.objects.create(
        system=version.system, version=version, kind=kind, status=RunStatus.SUCCEEDED, outcome=outcome,
        checks=STRICT_CHECKS if checks is None else checks, started_at=finished - timedelta(minutes=2),
        finished_at=finished, progress=100, params=params or {},
    )


def passing_run(version, **kwargs):
    return make_run(version, outcome="pass", **kwargs)


def signed_report(version, *, number="R-2026-0001"):
    from audits.reports.models import Report

    return Report.objects.create(
        report_number=number, system=version.system, version=version, status="signed",
        sha256=hashlib.sha256(number.encode()).hexdigest(), signed_at=timezone.now(),
    )


def with_roles(user, *roles):
    user.groups.add(*Group.objects.filter(name__in=roles))
    if hasattr(user, "_role_cache"):
        del user._role_cache
    return user


# What a person writes when they request or approve a version that misses its policy, eyes open.
EYES_OPEN = "Shipping despite the listed gaps: they are understood, tracked and accepted for this release."


def eyes_open(version, environment) -> dict:
    """The keywords a request or an approval needs for this version now: an acknowledgement and
    a written reason when it misses its policy (governance/approvals/services.py), else none."""
    from governance.approvals.services import policy_gaps

    return {"acknowledge": True} if policy_gaps(version=version, environment=environment) else {}


def request_approval(*, actor, version, environment, justification="", **kwargs):
    """approval_request_create, acknowledging in writing what the version misses of its policy."""
    from governance.approvals.services import approval_request_create

    ack = eyes_open(version, environment)
    return approval_request_create(actor=actor, version=version, environment=environment,
                                   justification=justification or (EYES_OPEN if ack else ""), **ack, **kwargs)


def decide(*, actor, request, decision="approve", comment="", **kwargs):
    """approval_decide, acknowledging in writing what the version misses of its policy when approving."""
    from governance.approvals.services import approval_decide

    ack = eyes_open(request.version, request.environment) if decision == "approve" else {}
    return approval_decide(actor=actor, request=request, decision=decision,
                           comment=comment if len(comment) >= 20 or not ack else EYES_OPEN, **ack, **kwargs)


def approve(version, environment, personas, *, requester="alice"):
    """Take a request through every stage of its policy with one persona per role (acknowledging,
    in writing, whatever the version misses of its policy)."""
    from governance.approvals.services import approval_decide, approval_request_create

    by_role = {"risk_officer": "bob", "security_reviewer": "sam", "compliance_officer": "carla",
               "executive_approver": "erik"}
    ack = eyes_open(version, environment)
    req = approval_request_create(actor=personas[requester], version=version, environment=environment,
                                  justification=EYES_OPEN if ack else "", **ack)
    for stage in req.stages:
        for role in stage:
            ack = eyes_open(version, environment)
            approval_decide(actor=personas[by_role[role]], request=req, decision="approve",
                            comment=EYES_OPEN if ack else "ok", **ack)
    req.refresh_from_db()
    return req


def medium(personas, slug="triage"):
    return make_system(personas["alice"], slug=slug, tier="medium")


def high(personas, slug="credit"):
    return make_system(personas["alice"], slug=slug, tier="high")


def inconclusive_approved(personas):
    """A medium-risk version whose fairness run is inconclusive, approved for production:
    (the approved request, the run)."""
    version = make_version(medium(personas))
    run = make_run(version, outcome="inconclusive", checks=UNDECIDED_CHECKS)
    return approve(version, "production", personas), run


@pytest.fixture
def policy_met():
    """For tests of the workflow's mechanics (stages, roles, segregation of duties, expiry): every
    version meets its policy, so requests and approvals need no acknowledgement. What happens when
    a version does not is tested in tests/approvals/test_eyes_open.py."""
    from governance.approvals import services

    saved = services._policy_gaps
    services.register_policy_gaps(lambda version, environment: [])
    yield
    services.register_policy_gaps(saved)


class PipelineClient:
    """An API client holding a pipeline token with `scopes`, made on its first request and bound to
    every AI system the test has made by then (tokens name the systems they may act on; what a
    token may not touch is tests/registry/test_tokens.py's)."""

    def __init__(self, *scopes, name=None):
        self.scopes, self.name, self.client, self.token = list(scopes), name, None, None

    def _ready(self):
        if self.client is None:
            from rest_framework.test import APIClient

            from governance.registry.models import AISystem, PipelineToken
            from governance.registry.tokens import pipeline_token_create

            name = self.name or f"ci-{PipelineToken.objects.count() + 1}"
            self.token, key = pipeline_token_create(name=name, scopes=self.scopes, systems=list(AISystem.objects.all()))
            self.client = APIClient()
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return self.client

    def __getattr__(self, attr):  # get, post, ...: the token is made when the first request is
        return getattr(self._ready(), attr)
