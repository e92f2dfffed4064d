"""The hash-chained audit trail (issue: approvals and gate)."""
