"""The deployment's periodic jobs: registering one is one line here.

    periodic("<name>", every(minutes=15) | daily_at("HH:MM"), "package.module:function")

The function is called as ``fn(session, company, clock)`` for every active company, in the
run's transaction (``container=True`` adds ``container=``); it returns a JSON-able summary
or None, and never commits. A module added to this package may register jobs too.
"""

from companion.jobs.periodic import daily_at, every, periodic

periodic("jobs.prune", daily_at("03:15"), "companion.jobs.service:prune_finished")
periodic("alerts.scan", every(hours=1), "companion.jobs.tasks:scan_alerts", container=True)
# Telemetry past COMPANION_LEARNING__TELEMETRY_RETENTION_DAYS (docs/learning.md).
periodic(
    "learning.purge",
    daily_at("03:30"),
    "companion.assistant.learning.telemetry:purge_company",
    container=True,
)
# The newest approved training examples as a dataset version, when any was reviewed since the
# latest one (docs/learning.md; as the system actor, audited as such).
periodic(
    "learning.export",
    daily_at("03:45"),
    "companion.assistant.learning.export:scheduled_export",
    container=True,
)
# Memories past their retention class's expiry: deleted here (a chat turn skips them; listing
# memories also deletes the company's expired ones first).
periodic("memory.sweep", every(minutes=15), "companion.jobs.tasks:sweep_memories")
