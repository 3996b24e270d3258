"""Metering, budgets and rate limits: what model use costs, and who may spend how much.

Every model call and chat turn is a ``UsageEvent``; hard caps are enforced by reserving the
worst case on counters before a call (one conditional update: spend never passes a cap)
and settling the actual figures after it. Counters live in the database by default and in
Redis at scale (``COMPANION_USAGE__COUNTERS``).
"""
