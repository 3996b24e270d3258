"""The morning briefing: "what should I worry about today?" -> the user's open alerts, most
severe first, the reminders they asked for that are due, and the dashboard's headline (or
the part of it the user's role may read).

The alerts are those a scan stored (``alerts.service.scan_company``, run by the scheduler
or ``companion alerts scan``); only those the caller's permissions let them see are listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from companion.alerts import repository as alerts_repo
from companion.alerts.service import ranked
from companion.assistant.context import MAX_ALERTS, register_alert_source
from companion.assistant.queries import registry as queries
from companion.assistant.queries.registry import QueryParams
from companion.assistant.queries.runner import run_query
from companion.assistant.skills.base import Answer, Turn, register
from companion.governance.memory.service import due_reminders
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext

SHOWN = 5


def open_alerts_for_context(session: Session, ctx: RequestContext) -> list[dict[str, Any]]:
    """The caller's open alerts, most pressing first, for every turn's context."""
    return [
        {
            "id": a.id,
            "type": a.type,
            "severity": a.severity,
            "title": a.title,
            "on_date": a.on_date.isoformat(),
            "status": a.status,
        }
        for a in ranked(alerts_repo.open_alerts(session, ctx))[:MAX_ALERTS]
    ]


# Skills load before a turn's context is built, so every turn sees the caller's alerts.
register_alert_source(open_alerts_for_context)


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else "now"


@register("briefing")
class Briefing:
    name = "briefing"

    def handle(self, turn: Turn) -> Answer:
        """Open alerts ranked, then the headline figures the user may read."""
        ctx = turn.ctx
        open_alerts = ranked(alerts_repo.open_alerts(turn.session, ctx))
        shown = open_alerts[:SHOWN]
        if shown:
            lines = [f"{n}. {a.message}" for n, a in enumerate(shown, start=1)]
            more = len(open_alerts) - len(shown)
            head = (
                f"{len(open_alerts)} open alert{'s' if len(open_alerts) != 1 else ''} "
                "for you, most pressing first:"
            )
            text = "\n".join([head, *lines])
            if more > 0:
                text += f"\n…and {more} more in the alerts list."
        reminders = due_reminders(turn.session, ctx, turn.now or utcnow(), turn.today)
        if not shown and not reminders:
            text = "Nothing needs your attention: no open alerts or reminders for you."
        elif not shown:
            text = "No open alerts for you."
        if reminders:
            text += "\n\nYour reminders due today or earlier:\n" + "\n".join(
                f"• {m.text} (due {_day(m.due_on)})" for m in reminders[:SHOWN]
            )
        headline = self._headline(turn)
        if headline:
            text += f"\n\nHeadline: {headline}"
        data: dict[str, Any] = {
            "columns": ["severity", "type", "title", "on_date", "alert_id"],
            "rows": [[a.severity, a.type, a.title, a.on_date.isoformat(), a.id] for a in shown],
            "totals": {"open_alerts": len(open_alerts), "reminders_due": len(reminders)},
            "currency": ctx.currency,
        }
        choices = [
            str(a.suggested_action["label"])
            for a in shown
            if a.suggested_action and a.suggested_action.get("label")
        ][:3]
        return Answer(text=text, skill=self.name, data=data, choices=choices or None)

    @staticmethod
    def _headline(turn: Turn) -> str | None:
        """The dashboard summary where the role reads it, else the sales summary, else none."""
        for intent in ("dashboard_summary", "sales_summary"):
            spec = queries.get(intent)
            if spec is None or not turn.ctx.can(spec.permission_for(QueryParams())):
                continue
            result = run_query(turn.session, turn.ctx, spec, QueryParams(), turn.today)
            return result.summary
        return None
