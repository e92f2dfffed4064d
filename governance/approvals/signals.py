"""What the approvals app tells the apps above it."""

from django.dispatch import Signal

# sent(sender=ApprovalRequest, request=..., was_approved=bool) inside the transaction that
# revokes or expires a request; the gate answers with the version to roll back to, or None.
approval_revoked = Signal()
