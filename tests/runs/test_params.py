"""Audit parameters: every one has a bound checked before a row is written, and the ones that
decide a verdict come from the policy, which a request may make more thorough, never less."""

import pytest

from audits.kinds.registry import KINDS as KIND_MODULES
from audits.runs.models import AuditRun
from audits.runs.params import POLICY_KEY, Param, params_requested, params_resolve
from audits.runs.services import audit_run_create, audit_run_execute
from governance.core.exceptions import ApplicationError
from governance.policies.models import Policy

KINDS = [module.KIND for module in KIND_MODULES]
HIGH = "High risk - production"


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr("audits.runs.services.audit_run_enqueue", lambda *, run_id: None)


def policy_params(kind: str, **params) -> Policy:
    """The high-risk production policy (the credit system's) with `params` for `kind`."""
    policy = Policy.objects.get(risk_tier="high", environment="production")
    policy.audit_requirements = {**policy.audit_requirements,
                                 kind: {**policy.audit_requirements.get(kind, {}), "params": params}}
    policy.save()
    return policy


def out_of_bounds(param: Param) -> list:
    """Values just outside a parameter's bounds, and one of the wrong type."""
    if param.type in ("int", "float"):
        step = 1 if param.type == "int" else 1e-9 * max(1.0, abs(param.high))
        below = param.low if param.low_open else param.low - (1 if param.type == "int" else 0.001)
        above = param.high if param.high_open else param.high + step * (1 if param.type == "int" else 1e3)
        return [below, above, "5", True] + ([1.5] if param.type == "int" else [])
    if param.type == "list":
        good = out_of_bounds(param.item)[0]
        return [[good], [None] * (param.max_items + 1), "all"]
    if param.type == "choice":
        return ["nope", 1]
    if param.type == "bool":
        return ["yes", 1]
    if param.type in ("object", "bins", "shares"):
        return [[], {str(i): [] for i in range(param.max_items + 1)}]
    if param.type == "label":
        return ["x" * 65, 1.5]
    return ["x" * (param.max_length + 1), "no spaces please", 3]


CASES = [(kind.name, name, value) for kind in KINDS for name, param in kind.params.items()
         for value in out_of_bounds(param)]


# ------------------------------------------------------------------ the tables


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_bounds_every_parameter_it_takes_and_its_defaults_are_within_them(kind):
    assert set(kind.params) == set(kind.defaults)
    for name, param in kind.params.items():
        assert kind.defaults[name] is None and param.nullable or param.valid(kind.defaults[name]), name
        if param.type in ("int", "float"):
            assert param.low is not None and param.high is not None, name


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_the_default_policy_params_of_every_tier_are_within_the_bounds(kind):
    from governance.policies.defaults import default_params

    for tier in ("low", "medium", "high"):
        for name, value in default_params(tier, kind.name).items():
            assert kind.params[name].valid(value), (tier, name)


def test_the_documented_table_is_the_tables_of_the_kinds():
    """docs/audit-parameters.md is written from the tables (its first lines say how to rewrite it)."""
    from pathlib import Path

    from audits.runs.params import params_table_markdown

    doc = (Path(__file__).parents[2] / "docs" / "audit-parameters.md").read_text()
    assert params_table_markdown(KINDS) in doc


# ------------------------------------------------------------------ the validator (pure)

TABLE = {"n": Param("int", low=1, high=100, thorough="more"), "level": Param("float", low=0.5, high=0.999,
                                                                             thorough="more"),
         "alpha": Param("float", low=0.0, high=0.5, low_open=True, thorough="less"),
         "k": Param("int", low=1, high=50, thorough="fixed"), "on": Param("bool", thorough="true"),
         "seed": Param("int", low=0, high=9)}
DEFAULTS = {"n": 10, "level": 0.95, "alpha": 0.05, "k": 20, "on": True, "seed": 0}


def resolve(request, policy=None):
    return params_resolve(kind="demo", table=TABLE, defaults=DEFAULTS, request=request, policy_params=policy,
                          policy_name="P")


def test_the_effective_params_are_defaults_then_policy_then_request_and_the_policy_ones_are_named():
    effective, by_policy = resolve({"n": 60, "seed": 3}, {"n": 50, "k": 30})
    assert effective == {"n": 60, "level": 0.95, "alpha": 0.05, "k": 30, "on": True, "seed": 3}
    assert by_policy == {"k": 30}


@pytest.mark.parametrize("request_,message", [
    ({"n": 49}, "params.n must be at least 50 under policy 'P'; you asked for 49."),
    ({"level": 0.9}, "params.level must be at least 0.99 under policy 'P'; you asked for 0.9."),
    ({"alpha": 0.1}, "params.alpha must be at most 0.01 under policy 'P'; you asked for 0.1."),
    ({"k": 19}, "params.k must be 30 (set by the policy) under policy 'P'; you asked for 19."),
    ({"on": False}, "params.on must be true under policy 'P'; you asked for false."),
])
def test_a_request_less_thorough_than_the_policy_is_refused_naming_the_policy_and_its_value(request_, message):
    with pytest.raises(ApplicationError) as caught:
        resolve(request_, {"n": 50, "level": 0.99, "alpha": 0.01, "k": 30, "on": True})
    assert caught.value.message == message
    assert caught.value.extra["field"] == f"params.{next(iter(request_))}"


def test_more_thorough_than_the_policy_is_accepted():
    effective, _ = resolve({"n": 100, "level": 0.999, "alpha": 0.001, "k": 30}, {"n": 50, "level": 0.99,
                                                                                "alpha": 0.01, "k": 30})
    assert (effective["n"], effective["level"], effective["alpha"]) == (100, 0.999, 0.001)


@pytest.mark.parametrize("value,accepted", [
    (0, "an integer from 1 to 100"), (101, "an integer from 1 to 100"), (2.5, "an integer from 1 to 100"),
    (True, "an integer from 1 to 100"), (float("nan"), "an integer from 1 to 100"),
])
def test_a_value_out_of_bounds_or_of_the_wrong_type_names_the_field_and_the_range(value, accepted):
    with pytest.raises(ApplicationError, match=f"^params.n must be {accepted}; you gave ") as caught:
        resolve({"n": value})
    assert caught.value.extra["field"] == "params.n"


def test_a_policy_value_out_of_bounds_is_a_400_that_asks_for_the_policy_to_be_corrected():
    with pytest.raises(ApplicationError, match="Policy 'P' sets params.n to 1000000"):
        resolve({}, {"n": 10**6})


def test_a_run_asked_for_again_repeats_only_what_its_request_changed():
    stored = {"n": 50, "level": 0.95, "seed": 3, POLICY_KEY: {"policy": "P", "params": ["n"]}}
    assert params_requested(defaults=DEFAULTS, stored=stored) == {"seed": 3}


# ------------------------------------------------------------------ through the service


@pytest.mark.parametrize("kind,name,value", CASES, ids=[f"{k}-{n}-{v!r}"[:60] for k, n, v in CASES])
def test_every_parameter_out_of_bounds_is_a_400_naming_it_and_writes_nothing(credit_system, personas, kind, name,
                                                                           value):
    _, version = credit_system
    with pytest.raises(ApplicationError) as caught:
        audit_run_create(actor=personas["alice"], version=version, kind=kind, params={name: value})
    assert caught.value.extra["field"] == f"params.{name}"
    assert caught.value.message.startswith(f"params.{name} must be ")
    assert AuditRun.objects.count() == 0


def test_the_issue_the_requester_cannot_buy_a_verdict_or_unbounded_work(credit_system, personas):
    _, version = credit_system
    alice = personas["alice"]
    with pytest.raises(ApplicationError, match=f"^params.n_bootstrap must be at least 200 under policy '{HIGH}'; "
                                               "you asked for 50.$"):
        audit_run_create(actor=alice, version=version, kind="explainability", params={"n_bootstrap": 50})
    with pytest.raises(ApplicationError, match="^params.n_bootstrap must be an integer from 0 to 5,000; you gave "
                                               "1000000000000.$"):
        audit_run_create(actor=alice, version=version, kind="explainability", params={"n_bootstrap": 10**12})
    with pytest.raises(ApplicationError, match="^params.pgd_steps must be an integer from 1 to 1,000; you gave "
                                               "100000000.$"):
        audit_run_create(actor=alice, version=version, kind="robustness", params={"pgd_steps": 10**8})
    with pytest.raises(ApplicationError, match="^Unknown parameter") as caught:
        audit_run_create(actor=alice, version=version, kind="fairness", params={"n_bootstrap": 50})
    assert caught.value.extra["field"] == "params"
    assert AuditRun.objects.count() == 0


@pytest.mark.parametrize("kind,params,field", [
    ("fairness", {"intervals": False}, "intervals"),
    ("fairness", {"min_slice_count": 5}, "min_slice_count"),
    ("explainability", {"confidence_level": 0.9}, "confidence_level"),
    ("explainability", {"min_group_count": 50}, "min_group_count"),
    ("robustness", {"attacks": ["fgsm"]}, "attacks"),
    ("robustness", {"min_group_count": 5}, "min_group_count"),
    ("poisoning", {"validate": False}, "validate"),
    ("data_quality", {"leakage_auc": 0.999}, "leakage_auc"),
])
def test_the_default_policy_of_a_tier_sets_the_verdicts_parameters(credit_system, personas, kind, params, field):
    _, version = credit_system
    with pytest.raises(ApplicationError, match=f"under policy '{HIGH}'") as caught:
        audit_run_create(actor=personas["alice"], version=version, kind=kind, params=params)
    assert caught.value.extra["field"] == f"params.{field}"
    assert AuditRun.objects.count() == 0


def test_a_policy_raises_the_floor_and_a_request_may_go_above_it(credit_system, personas, no_enqueue):
    _, version = credit_system
    policy_params("explainability", n_bootstrap=2000, confidence_level=0.99)
    with pytest.raises(ApplicationError, match=f"^params.n_bootstrap must be at least 2000 under policy '{HIGH}'; "
                                               "you asked for 200.$") as caught:
        audit_run_create(actor=personas["alice"], version=version, kind="explainability", params={"n_bootstrap": 200})
    assert caught.value.extra["policy_value"] == 2000 and caught.value.extra["policy"] == HIGH
    assert AuditRun.objects.count() == 0
    run = audit_run_create(actor=personas["alice"], version=version, kind="explainability",
                           params={"n_bootstrap": 3000})
    assert run.params["n_bootstrap"] == 3000 and run.params["confidence_level"] == 0.99
    assert run.params[POLICY_KEY] == {"policy": HIGH, "params": ["confidence_level", "min_group_count"]}


def test_a_run_requested_without_params_gets_the_policys_and_they_reach_the_runner(credit_system, personas,
                                                                                 no_enqueue, monkeypatch):
    _, version = credit_system
    policy_params("explainability", n_bootstrap=2000)
    run = audit_run_create(actor=personas["alice"], version=version, kind="explainability")
    assert run.params["n_bootstrap"] == 2000
    assert "n_bootstrap" in run.params[POLICY_KEY]["params"]
    seen = {}

    def probe(*args, **kwargs):
        seen.update(kwargs)
        raise ValueError("stopped after reading the parameters")

    monkeypatch.setattr("audits.kinds.explainability.runner.explainability_probe", probe)
    audit_run_execute(run_id=run.pk)
    assert seen["n_bootstrap"] == 2000 and seen["confidence_level"] == 0.95


def test_the_policy_can_ask_for_more_attack_steps_and_budgets_than_a_request_gives(credit_system, personas):
    _, version = credit_system
    policy_params("robustness", pgd_steps=20, epsilons=[0.1, 0.2])
    for params, field in (({"pgd_steps": 10}, "pgd_steps"), ({"epsilons": [0.0, 0.1]}, "epsilons")):
        with pytest.raises(ApplicationError) as caught:
            audit_run_create(actor=personas["sam"], version=version, kind="robustness", params=params)
        assert caught.value.extra["field"] == f"params.{field}"
    assert AuditRun.objects.count() == 0


def test_a_drift_rule_in_the_policy_is_its_floor_when_the_review_is_requested(credit_system, personas):
    _, version = credit_system
    policy = Policy.objects.get(risk_tier="high", environment="production")
    policy.audit_requirements = {**policy.audit_requirements, "drift": {"rule": {"alpha": 0.005}}}
    policy.save()
    with pytest.raises(ApplicationError, match=f"^params.alpha must be at most 0.005 under policy '{HIGH}'"):
        audit_run_create(actor=personas["alice"], version=version, kind="drift", params={"alpha": 0.01})
    assert AuditRun.objects.count() == 0


def test_efficiency_repeats_below_min_repeats_is_a_400(credit_system, personas):
    _, version = credit_system
    with pytest.raises(ApplicationError, match="params.repeats must be at least params.min_repeats") as caught:
        audit_run_create(actor=personas["alice"], version=version, kind="efficiency",
                         params={"min_repeats": 50, "repeats": 10})
    assert caught.value.extra["field"] == "params.repeats"
    assert AuditRun.objects.count() == 0


# ------------------------------------------------------------------ through the API


@pytest.mark.parametrize("kind,params,field", [
    ("explainability", {"n_bootstrap": 50}, "params.n_bootstrap"),
    ("explainability", {"n_bootstrap": 10**12}, "params.n_bootstrap"),
    ("robustness", {"pgd_steps": 10**8}, "params.pgd_steps"),
    ("fairness", {"n_bootstrap": 50}, "params"),
    ("fairness", {"intervals": "no"}, "params.intervals"),
])
def test_the_api_answers_a_bad_parameter_with_a_400_naming_it_and_writes_nothing(credit_system, api, kind, params,
                                                                                  field):
    _, version = credit_system
    response = api("alice").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": kind, "params": params},
                                 format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["field"] == field
    assert AuditRun.objects.count() == 0


def test_the_api_shows_which_params_the_policy_set(credit_system, api, no_enqueue):
    _, version = credit_system
    response = api("alice").post("/api/v1/audit-runs/", {"version": str(version.pk), "kind": "explainability",
                                                          "params": {"n_bootstrap": 500}}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["params"]["n_bootstrap"] == 500
    assert body["params_set_by_policy"] == {"policy": HIGH, "params": ["confidence_level", "min_group_count"]}


def test_the_run_page_says_which_parameters_the_policy_set(credit_system, personas, no_enqueue, client):
    _, version = credit_system
    run = audit_run_create(actor=personas["alice"], version=version, kind="fairness", params={"seed": 7})
    client.force_login(personas["alice"])
    html = client.get(f"/runs/{run.pk}/").content.decode()
    assert f"were set by policy “{HIGH}”" in html
    assert '<th scope="row" class="mono">min_slice_count</th><td class="mono">20</td><td>policy</td>' in html
    assert '<th scope="row" class="mono">seed</th><td class="mono">7</td><td><span class="muted">' in html
    assert "set_by_policy" not in html


def test_checking_the_params_costs_the_same_queries_however_many_are_given(credit_system, personas, no_enqueue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, version = credit_system
    counts = []
    for params in ({}, {"n_repeats": 40, "n_random": 99, "ig_steps": 64, "n_bootstrap": 400, "max_rows": 1000,
                        "confidence_level": 0.99, "seed": 3, "cases": [{"age": 30}] * 20}):
        with CaptureQueriesContext(connection) as queries:
            audit_run_create(actor=personas["alice"], version=version, kind="explainability", params=params)
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("params,message", [
    ({"alpha": 0.2}, "params.alpha must be at most 0.01 under policy"),
    ({"min_batch_rows": 10}, "params.min_batch_rows must be at least 50 under policy"),
    ({"estimate_bootstrap": 0}, "params.estimate_bootstrap must be at least 100 under policy"),
])
def test_a_drift_review_weaker_than_the_default_rule_is_refused_when_requested(credit_system, personas, params,
                                                                              message):
    """Drift's settings are null until the run starts (the policy's rule, else its defaults); its
    default rule is still the floor when the policy sets none, at the request, not at the worker."""
    _, version = credit_system
    with pytest.raises(ApplicationError, match=f"^{message} '{HIGH}'"):
        audit_run_create(actor=personas["alice"], version=version, kind="drift", params=params)
    assert AuditRun.objects.count() == 0
