"""The semantic layer: business measures x dimensions, compiled to read-only SQL.

Each measure (sales, receipts, gross margin, stock value, ...) is declared once in
``measures.py`` with the dimensions it can be broken down by. An ``AnalyticsQuery`` names a
measure, dimensions, filters, a period, an ordering/top-N and a comparison; ``engine.run``
validates it (a measure x dimension that doesn't apply raises ``Unanswerable`` with the
reason) and compiles it to SQLAlchemy Core with every table scoped to the caller's company.
No model ever writes SQL here. See docs/decisions/0001-semantic-layer.md.
"""

from companion.analytics.engine import AnalyticsResult, run
from companion.analytics.measures import MEASURES, Measure
from companion.analytics.query import (
    DIMENSIONS,
    GRAINS,
    MAX_TOP,
    AnalyticsQuery,
    Unanswerable,
)

__all__ = [
    "DIMENSIONS",
    "GRAINS",
    "MAX_TOP",
    "MEASURES",
    "AnalyticsQuery",
    "AnalyticsResult",
    "Measure",
    "Unanswerable",
    "run",
]
