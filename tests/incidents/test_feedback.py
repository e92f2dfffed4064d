"""Feedback as a metric (MEASURE 3.3): appeal and overturn rates per version and per group,
with exact intervals, by hand; and the decisions counted from a version's production batches."""

from __future__ import annotations

import math

import pytest

from governance.incidents.feedback import Appeal, appeal_figures

A = Appeal


def test_rates_per_version_and_group_by_hand():
    appeals = [A("1.0.0", "sex", "female", "overturned"), A("1.0.0", "sex", "female", "upheld"),
               A("1.0.0", "sex", "male", ""), A("", "", "", "upheld")]
    figures = appeal_figures(appeals, decisions={"1.0.0": 1000, "1.1.0": 500})
    first, second, unnamed = figures["by_version"]
    assert (first["version"], first["appeals"], first["decided"], first["overturned"]) == ("1.0.0", 3, 2, 1)
    assert first["appeal"]["rate"] == pytest.approx(0.003)
    # Clopper-Pearson 1 of 2: [1 - sqrt(0.975), sqrt(0.975)] (the Beta(1, 2) quantiles)
    assert first["overturn"]["rate"] == 0.5
    assert first["overturn"]["ci"] == pytest.approx([1 - math.sqrt(0.975), math.sqrt(0.975)])
    # 0 appeals of 500 decisions: [0, 1 - 0.025 ** (1 / 500)]
    assert (second["version"], second["appeals"], second["appeal"]["rate"]) == ("1.1.0", 0, 0.0)
    assert second["appeal"]["ci"] == pytest.approx([0.0, 1 - 0.025 ** (1 / 500)])
    assert second["overturn"]["rate"] is None  # nothing decided: no rate
    # An appeal naming no version is counted, with no rate: its decisions are unknown.
    assert (unnamed["version"], unnamed["appeals"], unnamed["appeal"]["rate"]) == ("(not given)", 1, None)
    groups = {(g["attribute"], g["group"]): g for g in figures["by_group"]}
    female = groups[("sex", "female")]
    assert (female["appeals"], female["share"]["rate"], female["overturn"]["rate"]) == (2, 0.5, 0.5)
    assert groups[("sex", "male")]["overturn"]["rate"] is None
    total = figures["total"]
    assert (total["appeals"], total["decided"], total["overturned"], total["overturn"]["rate"]) == (4, 3, 1, 1 / 3)
    # 1 of 3: low = 1 - 0.975 ** (1/3) (Beta(1, 3)); high: scipy's binomtest(1, 3) exact interval
    assert total["overturn"]["ci"] == pytest.approx([1 - 0.975 ** (1 / 3), 0.9057006759492866])

@pytest.mark.django_db
def test_a_versions_decisions_are_the_rows_of_its_production_batches(personas):
    from governance.incidents.models import PublicReport
    from governance.incidents.selectors import system_appeal_figures
    from governance.registry.models import Dataset
    from tests.approval_fixtures import make_run, make_version, medium

    system = medium(personas)
    version = make_version(system)
    batch = Dataset.objects.create(system=system, name="week 1", role="production", file="datasets/w1.csv",
                                   file_format="csv", sha256="1" * 64, size_bytes=1, n_rows=400,
                                   created_by=personas["alice"], schema={"features": ["x"]})
    make_run(version, kind="drift", params={"batch": str(batch.pk)})
    make_run(version, kind="drift", params={"batch": str(batch.pk)})  # reviewed twice: counted once
    PublicReport.objects.create(system=system, version=version, kind="appeal", text="x" * 30, reference_hash="a" * 64,
                                outcome="overturned", status="answered")
    row = system_appeal_figures(system=system)["by_version"][0]
    assert (row["appeals"], row["appeal"]["n"], row["appeal"]["rate"]) == (1, 400, 1 / 400)
