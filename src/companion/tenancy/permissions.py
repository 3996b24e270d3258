"""The fixed permission catalogue and the roles built from it.

Permissions are ``<area>.<verb>`` strings. Roles are named sets of permissions; a user
holds one or more roles in each company they belong to.
"""

from __future__ import annotations

from types import MappingProxyType

PERMISSIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "finance.read": "See the ledger, bank balances, invoices, bills and payments",
        "finance.post": "Post invoices and bills, record payments, void documents",
        "sales.read": "See customers, sales orders and sales figures",
        "sales.write": "Create customers and sales orders",
        "procurement.read": "See suppliers and purchase orders",
        "procurement.write": "Create purchase orders",
        "procurement.approve": "Approve or reject purchase orders at the user's level",
        "inventory.read": "See items, warehouses and stock levels",
        "inventory.adjust": "Adjust and transfer stock",
        "kb.read": "Read the company's knowledge base",
        "kb.manage": "Add, change and remove knowledge documents",
        "ai.use": "Chat with the assistant",
        "ai.admin": "Configure the assistant, see usage and feedback",
        "usage.read": "See the company's AI usage, budgets and the billing export",
        "ai.review": "Review training examples from feedback, export datasets, retrain the NLU",
        "audit.read": "Read the audit log",
        "admin.users": "Manage users, memberships and API keys",
    }
)

_READ_ALL = frozenset(
    {"finance.read", "sales.read", "procurement.read", "inventory.read", "kb.read", "ai.use"}
)

ROLES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "viewer": frozenset({"sales.read", "inventory.read", "kb.read", "ai.use"}),
        "sales": frozenset({"sales.read", "sales.write", "inventory.read", "kb.read", "ai.use"}),
        "procurement": frozenset(
            {
                "procurement.read",
                "procurement.write",
                "procurement.approve",
                "inventory.read",
                "kb.read",
                "ai.use",
            }
        ),
        "inventory": frozenset(
            {"inventory.read", "inventory.adjust", "procurement.read", "kb.read", "ai.use"}
        ),
        "finance": frozenset(
            {
                "finance.read",
                "finance.post",
                "sales.read",
                "procurement.read",
                # Finance decides the approval levels assigned to it (large purchase orders).
                "procurement.approve",
                "inventory.read",
                "kb.read",
                "ai.use",
                "audit.read",
                # Model spend is billed: finance sees and exports it.
                "usage.read",
            }
        ),
        "executive": _READ_ALL | {"procurement.approve", "audit.read", "usage.read"},
        "admin": frozenset(PERMISSIONS),
    }
)


def permissions_for(roles: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """The union of the permissions of ``roles``; unknown role names raise."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}")
    result: frozenset[str] = frozenset()
    for role in roles:
        result |= ROLES[role]
    return result


def roles_granting(permission: str) -> list[str]:
    """The roles that include ``permission``, narrowest first (for "ask someone with …")."""
    return sorted((r for r, p in ROLES.items() if permission in p), key=lambda r: len(ROLES[r]))
