"""An outside OSCAL tool reads what we export: IBM's compliance-trestle loads our catalogs and
assessment results through its own pydantic models of OSCAL 1.x, which check every field's
type, pattern and required members independently of our JSON-schema validation."""

import copy

import pydantic
import pytest
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog

from tests.exports.test_oscal import _catalog, _results, sources  # noqa: F401 - sources is a fixture


def _ids(node, key):
    """Every control id below a group or control, for trestle's models and for plain dicts alike."""
    get = node.get if isinstance(node, dict) else lambda name: getattr(node, name, None)
    out = []
    for child in get("groups") or []:
        out += _ids(child, key)
    for control in get("controls") or []:
        out.append(key(control))
        out += _ids(control, key)
    return out


@pytest.mark.parametrize(("framework", "groups"), [("ai-rmf", 4), ("iso42001", 9)])
def test_trestle_loads_our_catalogs_with_every_group_and_control(sources, framework, groups):  # noqa: F811
    document = _catalog(sources, framework)["catalog"]
    catalog = Catalog.parse_obj(document)
    assert len(catalog.groups) == groups
    ours = _ids(document, key=lambda c: c["id"])
    assert ours and _ids(catalog, key=lambda c: c.id) == ours


def test_trestle_loads_our_assessment_results_with_their_observations_and_findings():
    document = _results()["assessment-results"]
    results = AssessmentResults.parse_obj(document)
    (result,) = results.results
    assert [str(o.uuid) for o in result.observations] == [o["uuid"] for o in document["results"][0]["observations"]]
    assert len(result.findings) == len(document["results"][0]["findings"])


def test_trestle_refuses_an_assessment_result_with_a_malformed_uuid():
    document = copy.deepcopy(_results()["assessment-results"])
    document["results"][0]["observations"][0]["uuid"] = "not-a-uuid"
    with pytest.raises(pydantic.ValidationError):
        AssessmentResults.parse_obj(document)
