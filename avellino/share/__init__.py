"""Sharing: the one policy every way out of a workspace goes through (policy.py), agency nodes, signed bundles,
withdrawals, retention and the tamper-evident audit log (see docs/sharing.md and issue 17)."""
