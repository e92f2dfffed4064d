"""Governance models, one module per concern; everything is importable from here."""

from governance.models.registry import *  # noqa: F401,F403
from governance.models.registry import (  # noqa: F401 - explicit names for linters and readers
    AISystem,
    AssessmentStatus,
    Control,
    ControlAssessment,
    CrosswalkLink,
    Dataset,
    DatasetRole,
    Evidence,
    EvidenceOutcome,
    Framework,
    LifecycleStage,
    ModelVersion,
    Policy,
    RiskTier,
)
from governance.models.approvals import *  # noqa: F401,F403,E402
from governance.models.trail import *  # noqa: F401,F403,E402
