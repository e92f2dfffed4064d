"""The demo's security, explainability and efficiency audits, requested for the worker to run. Idempotent.

Robustness and poisoning on the digits CNN and the credit MLP (the tabular path: numeric
features only, within training ranges), privacy and explainability on the credit MLP, the
efficiency audit on both: about a minute of worker time on 2 CPU cores with the CPU defaults
(single-threaded torch), so `make demo` stays quick. DP retraining is left to the personas: open a version's "Retrain with differential
privacy" page (/versions/<id>/dp-retraining/, linked from the privacy results) or pick
"Differentially private retraining" in the system page's audit form.
"""

from __future__ import annotations

from audits.runs.models import AuditRun, RunStatus
from audits.runs.services import audit_run_create
from governance.registry.models import ModelVersion

DEMO_AUDITS = (
    ("digit-recognition", "robustness"), ("digit-recognition", "poisoning"),
    ("credit-scoring", "robustness"), ("credit-scoring", "poisoning"), ("credit-scoring", "privacy"),
    ("credit-scoring", "explainability"), ("credit-scoring", "efficiency"), ("digit-recognition", "efficiency"),
)


def demo_security_ensure(*, log=print) -> None:
    from django.contrib.auth import get_user_model

    reviewer = get_user_model().objects.get(username="sam")  # the security reviewer asks for them
    for slug, kind in DEMO_AUDITS:
        version = ModelVersion.objects.select_related("system").get(system__slug=slug, version="1.0.0")
        if AuditRun.objects.filter(version=version, kind=kind).exclude(status=RunStatus.FAILED).exists():
            continue
        audit_run_create(actor=reviewer, version=version, kind=kind)
        log(f"audits: {kind} audit of {slug} 1.0.0 requested (the worker runs it)")
