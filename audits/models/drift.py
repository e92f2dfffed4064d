"""Drift review schedules and retraining recommendations (issue: drift reviews)."""
