"""The learning loop: telemetry, feedback -> reviewed training examples -> datasets, and
per-company NLU retraining behind an evaluation gate (with rollback)."""
