"""Collections and purchasing outreach: customer collection scores and e-mail drafts.

Scores are computed by fixed rules (``scoring``); a model may only word the rationale.
Drafts are built from ledger facts (``drafts``); a model draft is kept only when the figure
guard finds nothing in it that the ledger does not say. Nothing here sends anything.
"""
