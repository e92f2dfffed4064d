"""Approval requests, decisions, pipeline tokens (issue: approvals and gate)."""
