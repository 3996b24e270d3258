"""Approvals waiting longer than N days: a reminder to the approver of the current level."""

from __future__ import annotations

from companion.alerts import explain
from companion.alerts.detectors.base import Finding, ScanInput, register_detector
from companion.erp.parties import repository as parties_repo
from companion.erp.purchasing import repository as po_repo

TYPE = "approval_waiting"


class ApprovalWaiting:
    name = "approval_waiting"
    types: tuple[str, ...] = (TYPE,)
    state = True

    def detect(self, scan: ScanInput) -> list[Finding]:
        """Each pending approval task whose order has waited more than the setting's days."""
        findings = []
        for task in po_repo.pending_tasks(scan.session, scan.ctx):
            order = task.order
            waited = (scan.today - order.order_date).days
            if waited <= scan.settings.approval_wait_days:
                continue
            supplier = parties_repo.get_supplier(scan.session, scan.ctx, order.supplier_id).name
            who = (
                po_repo.username(scan.session, task.assigned_user_id)
                if task.assigned_user_id is not None
                else f"the {task.assigned_role} approver"
            )
            findings.append(
                Finding(
                    type=TYPE,
                    severity="warning",
                    title=f"{order.number} has waited {waited} days for approval",
                    message=(
                        f"Purchase order {order.number} to {supplier} "
                        f"({explain.amount(order.total, scan.ctx)}) has waited {waited} days "
                        f"since {explain.day(order.order_date)}; level {task.level} is with "
                        f"{who}."
                    ),
                    module="procurement",
                    permission="procurement.approve",
                    condition_key=f"{TYPE}:{task.id}",
                    on_date=order.order_date,
                    record_ref=order.number,
                    observed=order.total,
                    assignee_id=task.assigned_user_id,
                    suggested_action={
                        "action": "approve_purchase_order",
                        "label": f"Approve {order.number}",
                        "params": {"document_ref": order.number},
                    },
                    details={"level": task.level, "role": task.assigned_role, "days": waited},
                )
            )
        return findings


register_detector(ApprovalWaiting())
