"""A small NLU for the learning-loop tests (the fake embedder, four intents) and a held-out
set it reads right: fast enough to retrain in a test on both databases."""

from __future__ import annotations

import datetime as dt

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


def answered(session: Session, ctx: RequestContext, question: str, intent: str) -> str:
    """A conversation of ``ctx``'s user where ``question`` got an answer read as ``intent``;
    the answer's message id (flushed, not committed)."""
    conversation = Conversation(
        company_id=ctx.company_id, user_id=ctx.user_id, title="t", last_seq=2
    )
    session.add(conversation)
    session.flush()
    session.add(
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
    session.add(reply)
    session.flush()
    return reply.id
