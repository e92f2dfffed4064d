"""Audit models, one module per concern; everything is importable from here."""

from audits.models.runs import AuditRun, RunStatus  # noqa: F401
from audits.models.reports import *  # noqa: F401,F403,E402
from audits.models.drift import *  # noqa: F401,F403,E402
