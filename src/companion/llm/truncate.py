"""Fitting a chat prompt into a model's context: never send more than the model accepts."""

from __future__ import annotations

from collections.abc import Sequence

from companion.llm.errors import LLMPromptTooLong
from companion.llm.providers.base import LLMProvider, Message

# Tokens kept free beyond max_tokens: chat-template markers and tokenizer disagreements.
SAFETY_MARGIN = 16
ELLIPSIS = " [...] "


def prompt_budget(provider: LLMProvider, max_tokens: int) -> int:
    """How many prompt tokens fit beside ``max_tokens`` of completion."""
    return provider.context_size - max_tokens - SAFETY_MARGIN


def fit_messages(
    provider: LLMProvider,
    messages: Sequence[Message],
    *,
    max_tokens: int,
    mode: str = "drop_oldest",
) -> list[Message]:
    """The messages cut to the context: oldest turns first, then the longest text's middle.

    System messages and the last message are kept whole as long as anything else can go;
    ``mode="error"`` refuses an oversize prompt instead of cutting it.
    """
    fitted = [dict(m) for m in messages]
    budget = prompt_budget(provider, max_tokens)
    used = provider.count_message_tokens(fitted)
    if used <= budget:
        return fitted
    details = {"prompt_tokens": used, "budget": budget, "context": provider.context_size}
    if mode == "error" or budget <= 0:
        raise LLMPromptTooLong(
            f"The prompt needs {used} tokens but {provider.model} has room for {budget}",
            details=details,
        )
    while used > budget:
        droppable = [i for i, m in enumerate(fitted[:-1]) if m.get("role") != "system"]
        if droppable:
            del fitted[droppable[0]]
        else:
            index = max(range(len(fitted)), key=lambda i: len(fitted[i].get("content", "")))
            content = fitted[index].get("content", "")
            tokens = max(provider.count_tokens(content), 1)
            room = tokens - (used - budget)
            # Shrink in proportion to the overshoot, and always by something.
            keep = min(int(len(content) * room / tokens) - len(ELLIPSIS), len(content) - 8)
            if keep <= 0:
                raise LLMPromptTooLong(
                    f"The prompt cannot be cut to fit {provider.model}'s context",
                    details=details,
                )
            head = content[: keep * 2 // 3]
            tail = content[len(content) - (keep - len(head)) :]
            fitted[index] = {**fitted[index], "content": head + ELLIPSIS + tail}
        used = provider.count_message_tokens(fitted)
    return fitted
