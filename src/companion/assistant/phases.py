"""Whether a chat turn answers inside its write transaction, decided from its reading.

A turn that only reads until it records its messages answers in a phase that only reads
(on SQLite a deferred transaction: in WAL mode it takes no lock, so a model writing for
seconds keeps no other writer waiting) and records the turn afterwards in a short write
transaction of its own. A turn whose answer changes something (an action proposed,
confirmed or cancelled, a memory kept: anything a skill that writes does) is answered in
one write transaction, as a whole, as before. The choice is made before answering; a
write that slips into the reading phase fails loudly (``kit.db.WriteWhileReading``).
"""

from __future__ import annotations


def writes(skill: object) -> bool:
    """Whether ``skill``'s answers may write (a skill says so with ``writes = True``)."""
    return getattr(skill, "writes", False) is True


def answers_in_one_transaction(skill: object, *, claimed: bool, remembering: bool) -> bool:
    """Whether the turn answers inside its write transaction instead of only reading first.

    ``claimed``: the actions skill takes the turn (an action being drafted, a pending
    confirmation, "yes"/"no" to one); ``remembering``: "remember that ...", "remind me ...".
    """
    return claimed or remembering or writes(skill)
