"""The metering port: every model call is admitted (its worst case reserved) and settled.

``LLMService`` asks its ``CallMeter`` before each call that reaches a model, with the
prompt's token count and the most tokens the call may write; the meter may refuse
(``LLMBudgetExceeded``: the chain moves on to its next provider, and a chat turn answers
without a model). After the call the meter is told what it really used, or that it failed.
Cache hits are reported too, marked cached. The composition root wires the meter in
(governance's budgets and usage records); ``llm`` knows nothing of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from companion.llm.errors import LLMError
from companion.llm.providers.base import Generation


class LLMBudgetExceeded(LLMError):
    """A budget refuses this call (the limit and when it resets are in details)."""

    status_code = 429
    code = "llm_budget_exceeded"


@dataclass(frozen=True)
class PlannedCall:
    """A model call about to be made: who for, which model, and its most tokens."""

    use_case: str
    company: str | int
    caller: str | None
    provider: str  # the provider's kind (llamacpp, openai_compat, fake ...)
    model: str
    tokens_in: int
    max_tokens: int


class CallMeter(Protocol):
    """Admits, settles and records model calls (budgets and usage live behind it)."""

    def admit(self, call: PlannedCall) -> object:
        """Reserve the call's worst case, returning a ticket; raise ``LLMBudgetExceeded``."""
        ...

    def settle(self, ticket: object, generation: Generation | None) -> None:
        """What the admitted call used (None: it failed and used nothing billable)."""
        ...

    def cached(self, call: PlannedCall, generation: Generation) -> None:
        """A generation served from the response cache (no model was called)."""
        ...
