"""PII redaction: typed placeholders for e-mails, phones, national IDs, cards, IBANs, IPs.

    >>> r = redact("mail me at a@b.com")
    >>> r.text
    'mail me at <EMAIL_1>'
    >>> r.restore("I wrote to <EMAIL_1>")
    'I wrote to a@b.com'

Applied before text is stored in memory, sent to an external model provider, written to
a log or exported for training. ``restore`` puts the values back where policy allows.
"""

from companion.governance.pii.redactor import (
    PII_TYPES,
    Redactor,
    UnknownPiiType,
    default_redactor,
    redact,
    redact_many,
)
from companion.governance.pii.scrubber import PiiScrubber, restorer
from companion.governance.pii.spans import PiiSpan, Redaction

__all__ = [
    "PII_TYPES",
    "PiiScrubber",
    "PiiSpan",
    "Redaction",
    "Redactor",
    "UnknownPiiType",
    "default_redactor",
    "redact",
    "redact_many",
    "restorer",
]
