"""Governance: memory and context, PII redaction, budgets and metering, retention and purge."""
