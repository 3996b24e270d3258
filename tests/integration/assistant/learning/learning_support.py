"""Helpers of the learning-loop tests: two companies with a user and a reviewer each (the
small NLU they retrain is in ``tests/learning_fixtures.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from companion.tenancy.context import RequestContext
from learning_fixtures import answered


@dataclass
class Shop:
    """Two companies: a user who chats and a reviewer (admin) in each."""

    session: Session
    user: RequestContext
    reviewer: RequestContext
    other_user: RequestContext
    other_reviewer: RequestContext

    def answer(self, ctx: RequestContext, question: str, intent: str) -> str:
        """A conversation where ``question`` got an answer read as ``intent``; its id."""
        return answered(self.session, ctx, question, intent)
