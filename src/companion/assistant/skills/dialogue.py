"""Small talk and help: greetings, help, out of scope, and nothing to confirm."""

from __future__ import annotations

from companion.assistant.queries import registry as queries
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.knowledge import answer_from_documents

_EXAMPLES = {
    "cash_balance": "What's our cash balance?",
    "overdue_invoices": "Which invoices are overdue?",
    "sales_summary": "Sales last month",
    "ar_aging": "Show the receivables aging",
    "ap_aging": "What do we owe suppliers?",
    "pending_approvals": "What's waiting for my approval?",
    "below_reorder": "Which items are below reorder level?",
    "profit_and_loss": "Profit and loss this quarter",
    "top_customers": "Top 5 customers this year",
    "stock_levels": "Stock levels in the main warehouse",
}


@register("greet")
class Greet:
    name = "dialogue"

    def handle(self, turn: Turn) -> Answer:
        return Answer(
            text=f"Hello! I can answer questions about {turn.ctx.company_slug}'s figures — "
            "try “what's our cash balance?” or say “help” to see what I can do.",
            skill=self.name,
        )


@register("goodbye")
class Goodbye:
    name = "dialogue"

    def handle(self, turn: Turn) -> Answer:
        return Answer(text="Goodbye — ask me any time.", skill=self.name)


@register("help")
class Help:
    name = "dialogue"

    def handle(self, turn: Turn) -> Answer:
        # "How do I post an invoice?" is answered from the product's help pages; a bare
        # "help" gets the examples below.
        from_docs = answer_from_documents(turn)
        if from_docs is not None:
            return from_docs
        allowed = [
            example
            for intent, example in _EXAMPLES.items()
            if (spec := queries.get(intent)) is not None and turn.ctx.can(spec.permission)
        ]
        if not allowed:
            return Answer(
                text="Your role doesn't give access to any figures yet; an administrator can "
                "add the role you need.",
                skill=self.name,
            )
        return Answer(
            text="I answer questions about your company's figures with exact numbers from the "
            "ledger, for example: " + "; ".join(f"“{e}”" for e in allowed[:6]) + ".",
            skill=self.name,
            choices=allowed[:6],
        )


@register("out_of_scope")
class OutOfScope:
    name = "dialogue"

    def handle(self, turn: Turn) -> Answer:
        # Not a figure or an action, but the company's documents may still answer it.
        from_docs = answer_from_documents(turn)
        if from_docs is not None:
            return from_docs
        return Answer(
            text="I can only help with your company's business data — cash, sales, invoices, "
            "purchasing and stock. Say “help” for examples.",
            skill=self.name,
        )


@register("confirm", "cancel")
class NothingPending:
    name = "dialogue"

    def handle(self, turn: Turn) -> Answer:
        return Answer(text="There's nothing waiting for your confirmation.", skill=self.name)
