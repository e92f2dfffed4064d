"""The registry (AI systems, datasets, model versions), the controls catalog, and the
assessments and evidence that tie them together."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models


class Framework(models.TextChoices):
    AI_RMF = "ai-rmf", "NIST AI RMF 1.0"
    ISO42001 = "iso42001", "ISO/IEC 42001:2023 Annex A"


class Control(models.Model):
    """One AI RMF subcategory or one ISO/IEC 42001 Annex A control.

    `group` is the AI RMF function or the ISO objective; `category` the AI RMF category or
    the ISO sub-objective (A.6.1/A.6.2), where there is one.
    """

    framework = models.CharField(max_length=16, choices=Framework.choices)
    ref = models.CharField(max_length=32, help_text="e.g. 'MEASURE 2.11' or 'A.5.4'")
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="Official text (AI RMF only; ISO text is copyrighted)")
    group_ref = models.CharField(max_length=32)
    group_title = models.CharField(max_length=300)
    group_description = models.TextField(blank=True)
    category_ref = models.CharField(max_length=32, blank=True)
    category_title = models.TextField(blank=True)
    iso_clauses = models.JSONField(default=list, blank=True, help_text="Main-body ISO clauses (crosswalk)")
    sort_key = models.CharField(max_length=64, db_index=True)
    partners = models.ManyToManyField("self", through="CrosswalkLink", symmetrical=False, related_name="+")

    class Meta:
        ordering = ["framework", "sort_key"]
        constraints = [models.UniqueConstraint(fields=["framework", "ref"], name="control_unique_ref")]

    def __str__(self):
        return f"{self.ref} {self.title or self.text[:60]}"


class CrosswalkLink(models.Model):
    """AI RMF subcategory -> ISO/IEC 42001 Annex A control, from the published crosswalk."""

    ai_rmf = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="iso_links")
    iso = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="ai_rmf_links")
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ai_rmf", "iso"], name="crosswalk_unique_pair")]


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class LifecycleStage(models.TextChoices):
    DESIGN = "design", "Design"
    DEVELOPMENT = "development", "Development"
    VALIDATION = "validation", "Validation"
    DEPLOYED = "deployed", "Deployed"
    RETIRED = "retired", "Retired"


slug_validator = RegexValidator(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Use lowercase letters, digits and single hyphens.")


class AISystem(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_systems")
    purpose = models.TextField(help_text="What the system is for and its intended use")
    intended_use = models.TextField(blank=True, help_text="Intended users, context and out-of-scope uses")
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices, default=RiskTier.MEDIUM)
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.DEVELOPMENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AI system"

    def __str__(self):
        return self.name


class DatasetRole(models.TextChoices):
    TRAIN = "train", "Training"
    TEST = "test", "Test / evaluation"
    REFERENCE = "reference", "Reference"
    PRODUCTION = "production", "Production batch"


class Dataset(models.Model):
    """A tabular data file (CSV or Parquet) with its declared schema.

    schema = {"features": [...], "label": "risk" | null, "sensitive": [...], "categorical": [...]}
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=16, choices=DatasetRole.choices)
    file = models.FileField(upload_to="datasets/")
    file_format = models.CharField(max_length=16)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()
    n_rows = models.IntegerField()
    schema = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class ModelVersion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64, validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")])
    artifact = models.FileField(upload_to="artifacts/")
    artifact_sha256 = models.CharField(max_length=64, db_index=True)
    artifact_format = models.CharField(max_length=16, help_text="safetensors or skops")
    spec = models.JSONField(default=dict, blank=True, help_text="Architecture and input spec (torch models)")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    train_dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    eval_dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lineage = models.JSONField(default=dict, blank=True, help_text="How this version was derived (e.g. DP record)")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["system", "version"], name="version_unique_per_system")]

    def __str__(self):
        return f"{self.system.slug}@{self.version}"


class AssessmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SATISFIED = "satisfied", "Satisfied"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    FAILED = "failed", "Failed"


class ControlAssessment(models.Model):
    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="assessments")
    control = models.ForeignKey(Control, on_delete=models.PROTECT, related_name="assessments")
    status = models.CharField(max_length=16, choices=AssessmentStatus.choices, default=AssessmentStatus.NOT_STARTED)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "control"], name="assessment_unique")]
        indexes = [models.Index(fields=["system", "status"])]

    def __str__(self):
        return f"{self.system.slug} {self.control.ref}: {self.status}"


class EvidenceOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    INFO = "info", "Information"


class Evidence(models.Model):
    """One piece of evidence on one assessment, usually produced by an audit run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(ControlAssessment, on_delete=models.CASCADE, related_name="evidence")
    audit_run = models.ForeignKey("audits.AuditRun", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=32)
    summary = models.TextField()
    outcome = models.CharField(max_length=16, choices=EvidenceOutcome.choices)
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "evidence"


class Policy(models.Model):
    """What an AI system of a risk tier needs before it may ship to an environment.

    audit_requirements = {"fairness": {"thresholds": {...}, "max_age_days": 90}, ...}
    """

    name = models.CharField(max_length=200)
    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices)
    environment = models.CharField(max_length=32, default="production")
    audit_requirements = models.JSONField(default=dict)
    require_signed_report = models.BooleanField(default=False)
    approval_stages = models.JSONField(default=list, help_text='e.g. [["risk_officer"], ["executive_approver"]]')
    approval_valid_days = models.IntegerField(default=180)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        constraints = [models.UniqueConstraint(fields=["risk_tier", "environment"], name="policy_unique_tier_env")]

    def __str__(self):
        return self.name
