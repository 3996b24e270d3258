"""Data of the learning-loop tests: a small NLU (the fake embedder, a few intents), fast
enough to run the whole loop on both databases (``bench/learning_loop.py`` runs it on the
shipped NLU), and two companies with a user and a reviewer each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from companion.assistant.models import Conversation, Message
from companion.assistant.nlu import EvalExample
from companion.tenancy.context import RequestContext

TODAY = dt.date(2026, 11, 23)

SMALL_NLU = """
version: "3.1"
nlu:
- intent: cash_balance
  examples: |
    - what is our cash balance
    - how much cash do we have in the bank
    - bank balance please
    - show cash position
    - how much money is in the bank
    - cash in hand today
- intent: overdue_invoices
  examples: |
    - which invoices are overdue
    - list past due invoices
    - invoices not paid on time
    - show late invoices
    - unpaid invoices past due date
    - overdue bills from customers
- intent: greet
  examples: |
    - hi
    - hello
    - good morning
    - hey there
    - hello companion
    - hiya
- intent: out_of_scope
  examples: |
    - what is the weather today
    - tell me a joke
    - who won the football match
    - recipe for chocolate cake
    - play some music
    - book a flight to london
"""

HELDOUT = [
    EvalExample("what's the cash balance", "cash_balance"),
    EvalExample("cash in the bank now", "cash_balance"),
    EvalExample("how much money do we have", "cash_balance"),
    EvalExample("show me overdue invoices", "overdue_invoices"),
    EvalExample("late invoices please", "overdue_invoices"),
    EvalExample("hello there", "greet"),
    EvalExample("good morning companion", "greet"),
    EvalExample("tell me a funny joke", "out_of_scope"),
]


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
        conversation = Conversation(company_id=ctx.company_id, user_id=ctx.user_id, title="t")
        self.session.add(conversation)
        self.session.flush()
        self.session.add(
            Message(
                company_id=ctx.company_id,
                conversation_id=conversation.id,
                seq=1,
                role="user",
                content=question,
                intent=intent,
            )
        )
        reply = Message(
            company_id=ctx.company_id,
            conversation_id=conversation.id,
            seq=2,
            role="assistant",
            content=f"(answered as {intent})",
            intent=intent,
            entities={},
        )
        self.session.add(reply)
        self.session.flush()
        return reply.id
