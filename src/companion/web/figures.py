"""``Depends(require_figure("invoices"))``: a REST read route gated by the figure it serves.

The permission comes from ``tenancy.figures``, the table the assistant's data queries read
too, so a route and the chat answer showing the same figure can never disagree.
"""

from __future__ import annotations

from companion.tenancy.figures import figure_permission
from companion.web.deps import RequirePermission


class RequireFigure(RequirePermission):
    """A permission check that also names the figure the route serves (for the sweeps)."""

    def __init__(self, figure: str) -> None:
        super().__init__(figure_permission(figure))
        self.figure = figure

    def __repr__(self) -> str:
        return f"require_figure({self.figure!r})"


def require_figure(figure: str) -> RequireFigure:
    """403 unless the caller holds the permission that reads ``figure``."""
    return RequireFigure(figure)
