"""Demo data: users per role, three AI systems with data and trained models, registered
through the same services (and so the same safety checks) as any upload. Idempotent."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from sklearn.model_selection import train_test_split

from audits.reports.service import SigningNotConfigured, signing_config
from audits.runs.models import AuditRun, RunStatus
from audits.runs.services import audit_run_create
from governance.catalog.loader import catalog_load
from governance.catalog.models import AssessmentStatus, ControlAssessment
from governance.catalog.services import assessment_update
from governance.core.roles import Role
from governance.demo.datasets import (
    ADULT_CATEGORICAL,
    ADULT_CLASSES,
    ADULT_LABEL,
    ADULT_NUMERIC,
    ADULT_SENSITIVE,
    CREDIT_CATEGORICAL,
    CREDIT_NUMERIC,
    DATA_DIR,
    adult_frames,
)
from governance.demo.documents import demo_documents_ensure
from governance.demo.drift import demo_drift_ensure
from governance.demo.security import demo_security_ensure
from governance.gate.keys import gate_key_ensure, signing_key
from governance.policies.services import policies_ensure_defaults
from governance.registry import services
from governance.registry.models import AISystem, ModelVersion, PipelineToken
from governance.registry.tokens import pipeline_token_create
from training.artifacts import torch_artifact
from training.recipes import (
    digits_cnn_spec,
    digits_frame,
    tabular_mlp_spec,
    train_from_spec,
)

DEMO_USERS = [
    # username, full name, role, password (development only: printed by `make demo`)
    ("olivia", "Olivia Owner", Role.MODEL_OWNER, "olivia-demo-2026"),
    ("rachel", "Rachel Risk", Role.RISK_OFFICER, "rachel-demo-2026"),
    ("sam", "Sam Security", Role.SECURITY_REVIEWER, "sam-demo-2026"),
    ("carla", "Carla Compliance", Role.COMPLIANCE_OFFICER, "carla-demo-2026"),
    ("erik", "Erik Executive", Role.EXECUTIVE_APPROVER, "erik-demo-2026"),
    ("aude", "Aude Auditor", Role.AUDITOR, "aude-demo-2026"),
    ("admin", "Ada Admin", Role.ADMIN, "admin-demo-2026"),
]


@dataclass
class DemoState:
    users: list = field(default_factory=list)
    created: list = field(default_factory=list)
    fairness_run: AuditRun | None = None
    adult_fairness_run: AuditRun | None = None


def roles_ensure() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def demo_users_ensure() -> list[tuple[str, str, str]]:
    User = get_user_model()
    out = []
    for username, full_name, role, password in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"}
        )
        if created:
            user.set_password(password)
            user.is_staff = role == Role.ADMIN
            user.is_superuser = role == Role.ADMIN
            user.save()
        user.groups.add(Group.objects.get(name=role.value))
        out.append((username, password, role.label))
    return out


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def _credit_system(owner) -> tuple[AISystem, bool]:
    system = AISystem.objects.filter(slug="credit-scoring").first()
    if system and system.versions.exists():
        return system, False
    with transaction.atomic():
        system = system or services.system_create(
            actor=owner, name="Credit scoring", slug="credit-scoring", risk_tier="high", lifecycle_stage="validation",
            purpose="Scores consumer-credit applications as good or bad risk to support loan officers.",
            intended_use="Decision support for loan officers in retail lending. Not for fully automated refusals; "
            "not validated for business loans.",
        )
        frame = pd.read_csv(DATA_DIR / "german_credit.csv")
        train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["risk"])
        schema = {"features": CREDIT_NUMERIC + CREDIT_CATEGORICAL, "label": "risk", "sensitive": ["sex", "age"],
                  "categorical": CREDIT_CATEGORICAL}
        train_ds = services.dataset_register(actor=owner, system=system, name="German credit (train, 70%)", role="train",
                                             upload=_csv_bytes(train), schema=schema)
        test_ds = services.dataset_register(actor=owner, system=system, name="German credit (test, 30%)", role="test",
                                            upload=_csv_bytes(test), schema=schema)
        spec = tabular_mlp_spec(train, numeric=CREDIT_NUMERIC, categorical=CREDIT_CATEGORICAL, classes=[0, 1],
                                training={"epochs": 30})
        model = train_from_spec(spec, train, label_column="risk")
        services.model_version_register(
            actor=owner, system=system, version="1.0.0", artifact=torch_artifact(model), spec=spec,
            train_dataset=train_ds, eval_dataset=test_ds, notes="Seeded MLP trained by the demo.",
        )
    return system, True


# Ten epochs in batches of 256 train on all 32,561 rows in seconds on one core; the test split's
# accuracy (about 0.85) is the usual figure for this data set.
ADULT_TRAINING = {"epochs": 10, "batch_size": 256}
# The mitigation outlook refits Fairlearn's reductions on all 32,561 training rows, which takes
# many minutes on 2 cores; the demo leaves it out here (a persona can request it from the
# system page). It decides no check: the verdict is the same with or without it.
ADULT_FAIRNESS_PARAMS = {"mitigation": False}


def _adult_system(owner) -> tuple[AISystem, bool]:
    """UCI Adult: the standard splits, adult.data to train and adult.test (16,281 people) to audit,
    so that fairness checks by sex, race and age are decided, where German credit's 300 are not."""
    system = AISystem.objects.filter(slug="income-estimation").first()
    if system and system.versions.exists():
        return system, False
    with transaction.atomic():
        system = system or services.system_create(
            actor=owner, name="Adult income", slug="income-estimation", risk_tier="medium",
            lifecycle_stage="validation",
            purpose="Estimates from census answers whether a person's income exceeds $50K a year, to pre-select "
            "credit-card offers.",
            intended_use="Marketing pre-selection reviewed by staff. Not for credit decisions or any decision "
            "about an individual's eligibility.",
        )
        train, test = adult_frames()
        schema = {"features": ADULT_NUMERIC + ADULT_CATEGORICAL, "label": ADULT_LABEL, "sensitive": ADULT_SENSITIVE,
                  "categorical": ADULT_CATEGORICAL}
        train_ds = services.dataset_register(actor=owner, system=system, name="UCI Adult (adult.data)", role="train",
                                             upload=_csv_bytes(train), schema=schema)
        test_ds = services.dataset_register(actor=owner, system=system, name="UCI Adult (adult.test)", role="test",
                                            upload=_csv_bytes(test), schema=schema)
        spec = tabular_mlp_spec(train, numeric=ADULT_NUMERIC, categorical=ADULT_CATEGORICAL, classes=ADULT_CLASSES,
                                training=ADULT_TRAINING)
        model = train_from_spec(spec, train, label_column=ADULT_LABEL)
        services.model_version_register(
            actor=owner, system=system, version="1.0.0", artifact=torch_artifact(model), spec=spec,
            train_dataset=train_ds, eval_dataset=test_ds, notes="Seeded MLP trained by the demo on UCI Adult.",
        )
    return system, True


def _digits_system(owner) -> tuple[AISystem, bool]:
    system = AISystem.objects.filter(slug="digit-recognition").first()
    if system and system.versions.exists():
        return system, False
    with transaction.atomic():
        system = system or services.system_create(
            actor=owner, name="Handwritten digit recognition", slug="digit-recognition", risk_tier="medium",
            lifecycle_stage="development",
            purpose="Reads handwritten digits (8x8 scans) on paper forms.",
            intended_use="Back-office form digitisation with human review of low-confidence reads.",
        )
        frame = digits_frame()
        train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["label"])
        pixels = [c for c in frame.columns if c.startswith("pixel_")]
        schema = {"features": pixels, "label": "label", "sensitive": [], "categorical": []}
        train_ds = services.dataset_register(actor=owner, system=system, name="Digits (train, 70%)", role="train",
                                             upload=_csv_bytes(train), schema=schema)
        test_ds = services.dataset_register(actor=owner, system=system, name="Digits (test, 30%)", role="test",
                                            upload=_csv_bytes(test), schema=schema)
        spec = digits_cnn_spec()
        model = train_from_spec(spec, train, label_column="label")
        services.model_version_register(
            actor=owner, system=system, version="1.0.0", artifact=torch_artifact(model), spec=spec,
            train_dataset=train_ds, eval_dataset=test_ds, notes="Seeded small CNN trained by the demo.",
        )
    return system, True


DIGITS_NO_PEOPLE = ("Reads 8x8 scans of handwritten digits on paper forms: it decides nothing about people, and its "
                    "data hold no attribute of a person, so fairness between groups of people cannot be measured.")


def _fairness_not_applicable_to_digits(log) -> None:
    """Carla (compliance officer) records why fairness does not apply to the digit reader, which
    waives the fairness audit its medium-risk policy requires (governance/gate/)."""
    assessment = ControlAssessment.objects.get(system__slug="digit-recognition", control__framework="ai-rmf",
                                               control__ref="MEASURE 2.11")
    if assessment.status != AssessmentStatus.NOT_APPLICABLE:
        assessment_update(actor=get_user_model().objects.get(username="carla"), assessment=assessment,
                          status=AssessmentStatus.NOT_APPLICABLE, notes=DIGITS_NO_PEOPLE)
        log("digits: carla marked MEASURE 2.11 (fairness) not applicable, with the reason")


def _report_signing_ensure(log) -> None:
    """Signed reports: with DEBUG on, a DEVELOPMENT-ONLY CA and signer under var/pki."""
    try:
        signing = signing_config()
    except SigningNotConfigured as exc:
        log(f"report signing: not configured ({exc.message})")
        return
    where = "DEVELOPMENT-ONLY certificate" if signing.development else "organisation certificate"
    log(f"report signing: {where} {signing.pkcs12_path}")


def _gate_ensure(log) -> None:
    """Approvals and the gate: the attestation key, and a pipeline token shown once.

    The release story (governance/demo/release.py) then takes versions through the approvals."""
    public_path, created = gate_key_ensure()
    log(f"gate attestation key: {'generated' if created else 'present'}; public key {public_path} "
        f"(keyid {signing_key().keyid[:16]}...)")
    if PipelineToken.objects.filter(name="demo-ci").exists():
        log("pipeline token demo-ci: exists (shown only when created; make another with "
            "`manage.py create_pipeline_token NAME --scopes gate:read,batches:write --system credit-scoring`)")
        return
    # The demo's pipeline deploys the credit model only: a token acts on the systems it names.
    _, key = pipeline_token_create(name="demo-ci", scopes=["gate:read", "batches:write"], systems=["credit-scoring"])
    log(f"pipeline token demo-ci (gate:read batches:write, credit-scoring), shown once: {key}")


def demo_setup(*, log=print) -> DemoState:
    state = DemoState()
    stats = catalog_load()
    log(f"catalog: {stats.created + stats.updated} controls, {stats.links} crosswalk links")
    policies_ensure_defaults()
    roles_ensure()
    state.users = demo_users_ensure()
    owner = get_user_model().objects.get(username="olivia")
    for build, label in ((_credit_system, "credit scoring (German credit MLP)"), (_digits_system, "digits CNN"),
                         (_adult_system, "adult income (UCI Adult MLP)")):
        log(f"demo system: {label} ...")
        system, created = build(owner)
        log(f"  {'trained and registered' if created else 'already registered'}: {system.slug}")
    _fairness_not_applicable_to_digits(log)
    demo_documents_ensure(log=log)
    _report_signing_ensure(log)
    _gate_ensure(log)
    version = ModelVersion.objects.get(system__slug="credit-scoring", version="1.0.0")
    existing = AuditRun.objects.filter(version=version, kind="fairness").exclude(status=RunStatus.FAILED).first()
    state.fairness_run = existing or audit_run_create(actor=owner, version=version, kind="fairness")
    # Next in the worker's queue: the large-data case, whose checks are decided on 16,281 people.
    adult = ModelVersion.objects.get(system__slug="income-estimation", version="1.0.0")
    existing = AuditRun.objects.filter(version=adult, kind="fairness").exclude(status=RunStatus.FAILED).first()
    state.adult_fairness_run = existing or audit_run_create(actor=owner, version=adult, kind="fairness",
                                                            params=ADULT_FAIRNESS_PARAMS)
    # After the fairness run, which its review compares with: a shifted batch and a weekly schedule.
    demo_drift_ensure(owner=owner, log=log)
    demo_security_ensure(log=log)  # last, so the worker takes the fairness run first: robustness, poisoning, privacy  # robustness + poisoning on the digits CNN, privacy on the credit MLP
    return state
