"""The wizard offers only the audits a model can take, and says why it does not offer the others."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.registry.models import ModelVersion
from governance.registry.services import system_create

pytestmark = pytest.mark.django_db


def audits_page(owner, fmt: str) -> str:
    system = system_create(actor=owner, name="Loans", slug="loans", purpose="p", risk_tier="high")
    version = ModelVersion.objects.create(system=system, version="1.0.0", artifact=f"artifacts/x.{fmt}",
                                          artifact_sha256="0" * 64, artifact_format=fmt, created_by=owner)
    client = Client()
    client.force_login(owner)
    return client.get(f"/wizard/loans/{version.pk}/audits/").content.decode()


def test_a_scikit_learn_model_is_not_offered_the_audits_that_need_torch(personas):
    page = audits_page(personas["alice"], "skops")
    assert 'name="kinds" value="poisoning" disabled' in page and 'name="kinds" value="privacy" disabled' in page
    assert ("Not offered for this model:</strong> The Data poisoning audit needs a torch (safetensors + spec) model "
            "(it retrains the model with the version&#x27;s recipe); version 1.0.0 is a scikit-learn (skops) model.") \
        in page
    assert 'name="kinds" value="fairness" checked' in page  # required by the high-risk policy
    assert 'value="robustness" disabled' not in page and 'value="data_quality" disabled' not in page


def test_a_torch_model_is_offered_every_wizard_audit(personas):
    page = audits_page(personas["alice"], "safetensors")
    assert "disabled" not in page and "Not offered" not in page
