"""What a model call costs, from the configured price table (unlisted models are free)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from companion.config import ModelPrice

# Counters hold cost as integer millionths of the currency: exact sums, atomic adds.
MICROS = Decimal(1_000_000)
_THOUSAND = Decimal(1000)


def price_of(prices: Mapping[str, ModelPrice], provider: str, model: str | None) -> ModelPrice:
    """The price of ``model`` at ``provider`` ("kind:model", then "kind"), else zero."""
    if model:
        found = prices.get(f"{provider}:{model}")
        if found is not None:
            return found
    return prices.get(provider) or ModelPrice()


def cost_of(price: ModelPrice, tokens_in: int, tokens_out: int) -> Decimal:
    """The cost of reading ``tokens_in`` and writing ``tokens_out`` tokens, to 6 places."""
    raw = (price.input_per_1k * tokens_in + price.output_per_1k * tokens_out) / _THOUSAND
    return raw.quantize(Decimal("0.000001"))


def to_micros(cost: Decimal) -> int:
    """A cost as the counters hold it: whole millionths, rounded up (never under-reserved)."""
    micros = cost * MICROS
    whole = int(micros)
    return whole if whole == micros else whole + 1


def from_micros(micros: int) -> Decimal:
    """Counter millionths back to a cost."""
    return (Decimal(micros) / MICROS).quantize(Decimal("0.000001"))


def is_free(price: ModelPrice) -> bool:
    """Whether calls at ``price`` cost nothing (local models by default)."""
    return price.input_per_1k == 0 and price.output_per_1k == 0
