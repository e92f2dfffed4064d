"""Fixtures of the incident tests: a system with a declared sensitive attribute, and a stamp old
enough to be a person's. (tests/conftest.py empties the cache, where the throttle and spent stamps live.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def credit(personas):
    from tests.approval_fixtures import make_system, make_version
    from governance.registry.models import Dataset

    system = make_system(personas["alice"], slug="credit", tier="high")
    Dataset.objects.create(system=system, name="eval", role="test", file="datasets/eval.csv", file_format="csv",
                           sha256="0" * 64, size_bytes=10, n_rows=300, created_by=personas["alice"],
                           schema={"features": ["age", "sex"], "label": "risk", "sensitive": ["sex", "age_group"]})
    make_version(system, "1.0.0")
    return system


def old_stamp(slug, seconds=30):
    from governance.incidents.intake import stamp_issue

    return stamp_issue(system_slug=slug, now=timezone.now() - timedelta(seconds=seconds))
