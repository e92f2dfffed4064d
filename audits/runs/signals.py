"""What an audit run tells the apps above it."""

from django.dispatch import Signal

# sent(sender=AuditRun, run=..., outcome="pass"|"fail"|"inconclusive", version=the version the
# checks judge: run.version unless the runner named another) inside the transaction that
# finishes the run, before its evidence is written (approvals lock first: see trail/services.py)
audit_finished = Signal()
