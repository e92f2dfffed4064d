"""The registry: AI systems, the datasets they are audited on, their model versions, and the
tokens deploy pipelines use."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models


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
    # Who asked for the audit or retraining that produced this version, when the platform made it
    # (a DP retraining): they never approve it, even when the version is registered in the owner's name.
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["system", "version"], name="version_unique_per_system")]

    def __str__(self):
        return f"{self.system.slug}@{self.version}"


class TokenScope(models.TextChoices):
    GATE_READ = "gate:read", "Read gate decisions"
    BATCHES_WRITE = "batches:write", "Upload production batches"


class PipelineToken(models.Model):
    """A deploy pipeline's API token. Only the sha256 of the secret is stored; the secret is
    shown once, when it is created (manage.py create_pipeline_token)."""

    name = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipeline_tokens",
                             help_text="The service account the pipeline acts as")
    scopes = models.JSONField(default=list)
    # The systems this token may act on (ask the gate for, post batches to). A token bound to none
    # (every token made before binding existed) is refused everywhere: the safe reading of "unknown".
    systems = models.ManyToManyField(AISystem, blank=True, related_name="pipeline_tokens",
                                     help_text="The AI systems this pipeline may act on")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a token in logs")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({', '.join(self.scopes)})"
