"""Signed reports (issue: signed PDF reports)."""
