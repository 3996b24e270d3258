"""Intents whose skills arrive with later work: actions, policy answers and memory."""

from __future__ import annotations

from companion.assistant.skills.base import Answer, Turn, register

ACTION_INTENTS = (
    "approve_purchase_order",
    "reject_purchase_order",
    "create_sales_order",
    "create_customer",
    "post_ar_invoice",
    "record_payment",
    "create_purchase_order",
    "adjust_inventory",
    "void_document",
)


@register(*ACTION_INTENTS)
class ActionsNotYet:
    name = "action"

    def handle(self, turn: Turn) -> Answer:
        what = turn.intent.replace("_", " ")
        return Answer(
            text=f"I understood that you want to {what}, but I can't make changes from chat "
            "yet. Please do it in the ERP itself.",
            skill=self.name,
        )


@register("explain_policy")
class PoliciesNotYet:
    name = "knowledge"

    def handle(self, turn: Turn) -> Answer:
        return Answer(
            text="Answers from your company's policy documents are not available yet.",
            skill=self.name,
        )


@register("remember")
class MemoryNotYet:
    name = "memory"

    def handle(self, turn: Turn) -> Answer:
        return Answer(text="I can't remember things between conversations yet.", skill=self.name)
