"""Demo documentary evidence: a few policy documents on the credit-scoring system's controls,
attached through the same service as an upload on the attach page, one of them through the
crosswalk's proposal. Idempotent: a document already attached (same title) is left alone."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model

from governance.catalog.documents import document_attach
from governance.catalog.models import ControlAssessment, DocumentKind, EvidenceDocument
from governance.catalog.selectors import partner_assessments
from governance.demo.datasets import DATA_DIR
from governance.registry.models import AISystem

POLICIES = DATA_DIR / "policies"
# title, file, (framework, ref) it is attached to, accept the crosswalk's proposal, days until review (< 0: overdue)
DOCUMENTS = [
    ("AI policy", "ai-policy.md", ("ai-rmf", "GOVERN 1.1"), True, 300),
    ("Roles and responsibilities for AI systems", "roles-and-responsibilities.md", ("ai-rmf", "GOVERN 2.1"), True, 200),
    ("Third-party AI supplier register", "supplier-register.md", ("ai-rmf", "GOVERN 6.1"), False, -10),
]


def demo_documents_ensure(*, log=print, system_slug: str = "credit-scoring", today=None) -> int:
    """Attach the demo's policy documents (as carla, the compliance officer); the number attached now."""
    system = AISystem.objects.filter(slug=system_slug).first()
    if system is None:
        return 0
    carla = get_user_model().objects.get(username="carla")
    today = today or datetime.date.today()
    attached = 0
    for title, filename, (framework, ref), crosswalk, review_in in DOCUMENTS:
        if EvidenceDocument.objects.filter(system=system, title=title).exists():
            continue
        assessment = ControlAssessment.objects.select_related("control").get(
            system=system, control__framework=framework, control__ref=ref)
        proposal = partner_assessments(system=system, control=assessment.control) if crosswalk else []
        data = (POLICIES / filename).read_bytes()
        document_attach(actor=carla, system=system, assessments=[assessment, *proposal], kind=DocumentKind.DOCUMENT,
                        title=title, effective_on=today - datetime.timedelta(days=365 - review_in),
                        review_by=today + datetime.timedelta(days=review_in), owner=carla, upload=data,
                        filename=filename)
        refs = ", ".join([ref, *(p.control.ref for p in proposal)])
        log(f"document: {title!r} on {refs}" + (" (through the crosswalk)" if proposal else "")
            + (" — past its review-by date: the control shows stale" if review_in < 0 else ""))
        attached += 1
    return attached
