"""The policies admin checks the params a policy sets against each kind's bounds, so a typo or an
unbounded value is refused when it is saved, not when the next audit is requested."""

import pytest

from governance.policies.admin import PolicyForm

pytestmark = pytest.mark.django_db


def form(audit_requirements) -> PolicyForm:
    return PolicyForm(data={"name": "P", "risk_tier": "high", "environment": "production",
                            "audit_requirements": audit_requirements, "approval_stages": '[["risk_officer"]]',
                            "approval_valid_days": 180})


def test_a_policy_may_set_the_verdicts_parameters_within_their_bounds():
    f = form('{"explainability": {"params": {"n_bootstrap": 2000, "confidence_level": 0.99}}, '
             '"drift": {"rule": {"alpha": 0.005}}}')
    assert f.is_valid(), f.errors


@pytest.mark.parametrize("requirements,message", [
    ('{"explainability": {"params": {"n_bootstrap": 1000000000000}}}',
     "explainability: params.n_bootstrap must be an integer from 0 to 5,000; the policy gives 1000000000000."),
    ('{"robustness": {"params": {"pgd_step": 20}}}', "robustness: params.pgd_step is not a parameter of this audit"),
    ('{"fairness": {"params": [20]}}', "fairness: params must be an object of parameter: value."),
    ('{"fairness": {"rule": {}}}', "fairness: use only the keys thresholds, max_age_days and params."),
])
def test_a_policy_with_a_bad_parameter_is_refused_naming_it(requirements, message):
    f = form(requirements)
    assert not f.is_valid()
    assert f.errors["audit_requirements"][0].startswith(message)
