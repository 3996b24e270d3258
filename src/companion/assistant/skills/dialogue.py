"""Small talk and help: greetings, help, out of scope (``refusals`` says why), and nothing to
confirm."""

from __future__ import annotations

from companion.assistant.actions import settings as action_settings
from companion.assistant.actions.base import action_for
from companion.assistant.queries import registry as queries
from companion.assistant.skills import refusals
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
        # Not a figure or an action, but the company's documents may still answer it; not an
        # exchange rate or a predicted price, which no document of the company holds (quotes
        # that share a word with it would answer another question).
        if not refusals.asks_outside_figure(turn.text):
            from_docs = answer_from_documents(turn)
            if from_docs is not None:
                return from_docs
        reason = refusals.classify(turn.text, turn.entities, turn.today)
        said = refusals.refusal(
            reason,
            actions=_actions_allowed(turn) if reason.kind == "action" else (),
            can_read=lambda intent: _reads(turn, intent),
            reads_any=any(turn.ctx.can(spec.permission) for spec in queries.all_queries().values()),
        )
        return Answer(text=said.text, skill=self.name, choices=list(said.choices) or None)


def _reads(turn: Turn, intent: str) -> bool:
    spec = queries.get(intent)
    return spec is not None and turn.ctx.can(spec.permission)


def _actions_allowed(turn: Turn) -> list[str]:
    """The registered actions the user's roles may take and the company hasn't disabled."""
    return [
        rule.action
        for rule in action_settings.list_rules(turn.session, turn.ctx)
        if not rule.disabled
        and (handler := action_for(rule.action)) is not None
        and turn.ctx.can(handler.permission)
    ]


@register("confirm", "cancel")
class NothingPending:
    name = "dialogue"

    def handle(self, turn: Turn) -> Answer:
        return Answer(text="There's nothing waiting for your confirmation.", skill=self.name)
