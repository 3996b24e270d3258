"""Alert detectors over what sits above the alerts floor: stalled data imports, model budgets.

The alerts package cannot read data imports (``jobs``) or governance's budgets (a sibling),
so these detectors live here and every scan entry point (the periodic job, ``companion
alerts scan``, the command center's "scan now") passes them to ``alerts.service
.scan_company`` as ``extra``: ``detectors_for(container)``. Both are state detectors: their
alerts clear once the import moves on or the budget period resets.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from companion.alerts.detectors.base import Detector, Finding, ScanInput
from companion.bootstrap import Container
from companion.governance.usage import repository as usage_repo
from companion.governance.usage.budgets import Budgets, Payer, QuotaLine
from companion.jobs.imports import repository as imports_repo
from companion.jobs.imports.kinds import KINDS
from companion.jobs.imports.models import COMMITTING, VALIDATED, VALIDATING, DataImport

STALLED_IMPORT, BUDGET_BREACH = "stalled_import", "budget_breach"
TYPES = (STALLED_IMPORT, BUDGET_BREACH)


class StalledImports:
    """Imports validated but left uncommitted for hours, and jobs stuck validating/committing."""

    name = STALLED_IMPORT
    types: tuple[str, ...] = (STALLED_IMPORT,)
    state = True

    def detect(self, scan: ScanInput) -> list[Finding]:
        now = scan.moment()
        hours, minutes = scan.settings.stalled_import_hours, scan.settings.stuck_import_minutes
        waiting = imports_repo.unchanged_since(
            scan.session, scan.ctx, (VALIDATED,), now - dt.timedelta(hours=hours)
        )
        stuck = imports_repo.unchanged_since(
            scan.session, scan.ctx, (VALIDATING, COMMITTING), now - dt.timedelta(minutes=minutes)
        )
        return [self._finding(row, now) for row in [*waiting, *stuck] if row.kind in KINDS]

    @staticmethod
    def _finding(row: DataImport, now: dt.datetime) -> Finding:
        age = now - row.updated_at
        what = f"the {row.kind.replace('_', ' ')} import {row.filename} (import {row.id})"
        if row.status == VALIDATED:
            hours = int(age.total_seconds() // 3600)
            title = f"Import {row.id} is validated and waits to be committed"
            message = (
                f"{what[0].upper()}{what[1:]} was validated {hours} hours ago "
                f"({row.valid_rows} rows) and is neither committed nor discarded."
            )
            severity = "info"
            # One click opens the confirmation of the chat's commit_import action.
            action = {
                "action": "commit_import",
                "label": f"Commit import {row.id}",
                "params": {"import_id": row.id},
            }
        else:
            minutes = int(age.total_seconds() // 60)
            title = f"Import {row.id} has been {row.status} for {minutes} minutes"
            message = (
                f"{what[0].upper()}{what[1:]} has been {row.status} for {minutes} minutes "
                "without a change: its job may have stopped. Look at the job, or discard the "
                "import and upload the file again."
            )
            severity = "warning"
            action = None
        return Finding(
            type=STALLED_IMPORT,
            severity=severity,
            title=title,
            message=message,
            module="imports",
            permission=KINDS[row.kind].permission,
            condition_key=f"{STALLED_IMPORT}:{row.id}:{row.status}",
            on_date=row.updated_at.date(),
            record_ref=f"import {row.id}",
            assignee_id=row.user_id,
            suggested_action=action,
            details={
                "import_id": row.id,
                "kind": row.kind,
                "status": row.status,
                "since": row.updated_at.isoformat(),
                "minutes": int(age.total_seconds() // 60),
            },
        )


class BudgetBreach:
    """A company's model usage at its soft cap (a warning) or its hard cap (calls refused)."""

    name = BUDGET_BREACH
    types: tuple[str, ...] = (BUDGET_BREACH,)
    state = True

    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets

    def detect(self, scan: ScanInput) -> list[Finding]:
        ctx = scan.ctx
        zone = usage_repo.company_timezone(scan.session, ctx.company_id)
        payer = Payer(ctx.company_id, ctx.company_slug, None, zone)
        lines = self.budgets.quota(payer, scan.moment(), scan.session)
        refuse = self.budgets.caps(payer).on_hard_cap == "refuse"
        return [
            self._finding(scan, line, refuse) for line in lines if line.exceeded or line.warning
        ]

    def _finding(self, scan: ScanInput, line: QuotaLine, refuse: bool) -> Finding:
        level = "hard" if line.exceeded else "soft"
        span = "daily" if line.scope.endswith("_day") else "monthly"
        what = "token" if line.metric == "tokens" else "spending"
        currency = self.budgets.settings.currency
        used = _figure(line.metric, line.used, currency)
        cap = _figure(line.metric, line.cap or 0.0, currency)
        resets = line.resets_at.isoformat(timespec="minutes")
        if line.exceeded:
            title = f"The company's {span} AI {what} limit is reached"
            message = (
                f"AI use has reached the company's {span} {what} limit ({line.limit}): {used} "
                f"of {cap}. "
                + (
                    f"Model calls are refused until it resets at {resets}."
                    if refuse
                    else f"Only free (local) models are called until it resets at {resets}."
                )
            )
        else:
            percent = round((line.ratio or 0.0) * 100)
            title = f"The company has used {percent}% of its {span} AI {what} limit"
            message = (
                f"AI use is at {percent}% of the company's {span} {what} limit ({line.limit}): "
                f"{used} of {cap} (it resets at {resets})."
            )
        return Finding(
            type=BUDGET_BREACH,
            severity="critical" if line.exceeded else "warning",
            title=title,
            message=message,
            module="ai",
            permission="usage.read",
            condition_key=f"{BUDGET_BREACH}:{line.limit}:{line.resets_at.date()}:{level}",
            on_date=scan.today,
            record_ref=line.limit,
            expected=Decimal(str(line.cap)) if line.cap is not None else None,
            observed=Decimal(str(line.used)),
            details={**line.as_dict(), "level": level},
        )


def _figure(metric: str, value: float, currency: str) -> str:
    return f"{value:,.0f} tokens" if metric == "tokens" else f"{currency} {value:,.2f}"


def detectors_for(container: Container) -> list[Detector]:
    """The detectors of this module, bound to the container's budgets."""
    return [StalledImports(), BudgetBreach(container.usage_meter().metering.budgets)]
