"""Chat and REST agree, for every role, on who may see each figure (``tenancy.figures``).

Each data question is asked in chat and each REST read route of the same figure is called,
as a demo user of every role in ``ROLES``: both must answer exactly when the figure's one
permission is held (chat: a ``data_query`` answer, else ``denied``; REST: 200, else 403).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.testclient import TestClient

from companion.assistant.queries import registry as queries
from companion.assistant.queries.registry import QueryParams
from companion.assistant.skills.data_query import one_document_intent
from companion.tenancy.figures import FIGURES, figure_permission
from companion.tenancy.permissions import ROLES
from companion.web.introspect import ApiRoute, api_routes

# The demo user holding each role (CONTRACT.md); ``ceo`` is executive in both companies.
DEMO_USERS = {
    "viewer": "viewer",
    "sales": "sales",
    "procurement": "buyer",
    "inventory": "storekeeper",
    "finance": "finance",
    "executive": "ceo",
    "admin": "admin",
}
# One question per data intent: (message, the query that answers it).
QUESTIONS = [
    ("what's our cash balance?", "cash_balance"),
    ("show the receivables aging", "ar_aging"),
    ("show the payables aging", "ap_aging"),
    ("cash flow this month", "cash_flow"),
    ("list purchase orders", "purchase_orders"),
    ("which purchase orders are pending approval?", "pending_approvals"),
    ("show stock levels", "stock_levels"),
    ("which items are below reorder level?", "below_reorder"),
    ("give me the dashboard summary", "dashboard_summary"),
    ("sales this month", "sales_summary"),
    ("which invoices are overdue?", "overdue_invoices"),
    ("status of INV-2026-0001", "invoice_status"),
    ("status of PO-2026-0001", "order_status"),
    ("status of SO-2026-0001", "order_status"),
    ("customer list", "customer_list"),
    ("top customers", "top_customers"),
    ("how much does Tangail Traders owe us?", "customer_balance"),
    ("what do we owe Penang Lotus Exports?", "supplier_balance"),
    ("profit and loss this year", "profit_and_loss"),
    ("what is our inventory worth?", "inventory_valuation"),
]


def _figure_of(body: dict[str, Any]) -> str:
    """The figure the answering query reads, from the registry (by document kind)."""
    spec = queries.get(one_document_intent(body["intent"], body["entities"]))
    assert spec is not None
    ref = body["entities"].get("document_ref")
    return spec.figure_for(QueryParams(document_ref=ref["value"] if ref else None))


def _figure_routes(app: FastAPI) -> dict[str, list[ApiRoute]]:
    routes: dict[str, list[ApiRoute]] = {}
    for route in api_routes(app):
        for figure in route.figures:
            routes.setdefault(figure, []).append(route)
    return routes


def test_every_query_and_read_route_takes_its_permission_from_the_figure_table(
    chat_app: FastAPI,
) -> None:
    every_query = queries.all_queries()
    assert {query for _, query in QUESTIONS} == set(every_query)
    for spec in every_query.values():
        assert spec.permission == figure_permission(spec.figure), spec.intent
        for _, figure in spec.ref_figures:
            assert figure in FIGURES
    routes = _figure_routes(chat_app)
    read_permissions = {f.permission for f in FIGURES.values()}
    for route in api_routes(chat_app):
        assert route.permissions >= {figure_permission(f) for f in route.figures}, route.path
        # Every GET gated by a figure permission alone says which figure it serves.
        if "GET" in route.methods and route.permissions and route.permissions <= read_permissions:
            assert route.figures, f"GET {route.path} needs {set(route.permissions)}, no figure"
    read_by_chat = {s.figure for s in every_query.values()}
    read_by_chat |= {f for s in every_query.values() for _, f in s.ref_figures}
    missing = sorted(f for f in read_by_chat if not any(not r.path_params for r in routes[f]))
    assert not missing, f"figures chat answers with no REST list route: {missing}"


def test_chat_and_rest_answer_the_same_figures_for_every_role(
    chat_app: FastAPI, chat_client: TestClient, login: Any
) -> None:
    assert set(DEMO_USERS) == set(ROLES)
    routes = _figure_routes(chat_app)
    failures: list[str] = []
    for role, username in DEMO_USERS.items():
        headers = login(username, "acme")
        held = ROLES[role]
        seen: dict[str, bool] = {}
        for message, query in QUESTIONS:
            response = chat_client.post(
                "/api/v1/ai/chat", json={"message": message}, headers=headers
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert one_document_intent(body["intent"], body["entities"]) == query, message
            figure = _figure_of(body)
            may = figure_permission(figure) in held
            answered = body["skill"] == "data_query"
            if body["skill"] not in {"data_query", "denied"} or answered != may:
                failures.append(f"chat {role} {message!r} ({figure}): {body['skill']}")
            seen[figure] = may
        for figure, may in seen.items():
            for route in routes[figure]:
                if route.path_params or "GET" not in route.methods:
                    continue
                status = chat_client.get(route.path, headers=headers).status_code
                if status != (200 if may else 403):
                    failures.append(f"REST {role} GET {route.path} ({figure}): {status}")
    assert not failures, "\n".join(failures)


def test_a_viewer_sees_sales_totals_but_no_invoice_in_chat_and_rest(
    chat_client: TestClient, login: Any
) -> None:
    headers = login("viewer", "acme")
    chat = chat_client.post(
        "/api/v1/ai/chat", json={"message": "top customers"}, headers=headers
    ).json()
    rest = chat_client.get("/api/v1/reports/top-customers", headers=headers)
    assert chat["skill"] == "data_query" and rest.status_code == 200
    # The same query behind both: the same figures.
    assert rest.json()["totals"] == chat["data"]["totals"]
    assert rest.json()["rows"] == chat["data"]["rows"]
    invoices = chat_client.get("/api/v1/invoices", headers=headers)
    assert invoices.status_code == 403
    assert invoices.json()["error"]["details"]["permission"] == "finance.read"
    overdue = chat_client.post(
        "/api/v1/ai/chat", json={"message": "which invoices are overdue?"}, headers=headers
    ).json()
    assert overdue["skill"] == "denied"
    assert "finance" in overdue["message"]
