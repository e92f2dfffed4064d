"""What a drift review tells the apps above it."""

from django.dispatch import Signal

# sent(sender=RetrainingRecommendation, version=..., reason=..., run=...) inside the transaction
# that records a breach; a receiver that revokes approvals returns how many it revoked.
drift_breached = Signal()
