"""The typed ad-hoc question: measure x dimensions x filters x period x top-N x comparison."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from companion.errors import ValidationFailed

# Dimensions that name a record or a value on the fact.
DIMENSIONS = ("customer", "supplier", "item", "warehouse", "account", "status")
# Time grains, on the company's fiscal calendar for quarter and year.
GRAINS = ("day", "week", "month", "quarter", "year")
# Filters by a named record (ids of the caller's company's master data).
FILTERS = ("customer", "supplier", "item", "warehouse", "account")
# The most rows a ranking may ask for; more is refused with this figure, not silently cut.
MAX_TOP = 100

Comparison = Literal["previous_period", "last_year", "period"]


class Unanswerable(ValidationFailed):
    """The question can't be answered exactly as asked; ``message`` says why."""

    code = "unanswerable"


class AnalyticsQuery(BaseModel):
    """One ad-hoc question, validated against the measure's declaration by the engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: str
    by: tuple[str, ...] = ()  # at most one record dimension and one time grain
    filters: dict[str, int] = Field(default_factory=dict)  # dimension -> record id
    status: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    top: int | None = None
    order: Literal["desc", "asc"] = "desc"
    compare: Comparison | None = None
    # The other period of an explicit comparison ("January vs December").
    compare_start: dt.date | None = None
    compare_end: dt.date | None = None

    @property
    def grain(self) -> str | None:
        """The time grain among ``by``, if any."""
        return next((b for b in self.by if b in GRAINS), None)

    @property
    def dimension(self) -> str | None:
        """The record dimension among ``by``, if any."""
        return next((b for b in self.by if b in DIMENSIONS), None)
