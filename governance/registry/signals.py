"""What the registry tells the apps above it."""

from django.dispatch import Signal

# sent(sender=AISystem, system=...) inside the transaction that creates the system
system_registered = Signal()
