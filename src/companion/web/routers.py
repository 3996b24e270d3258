"""Every domain router, mounted under ``/api/v1`` by the app factory."""

from fastapi import APIRouter

from companion.erp.invoicing.endpoints import router as invoicing_router
from companion.erp.items.endpoints import router as items_router
from companion.erp.ledger.endpoints import router as ledger_router
from companion.erp.parties.endpoints import router as parties_router
from companion.erp.payments.endpoints import router as payments_router
from companion.erp.purchasing.endpoints import router as purchasing_router
from companion.erp.sales.endpoints import router as sales_router
from companion.erp.stock.endpoints import router as stock_router
from companion.jobs.endpoints import router as jobs_router
from companion.jobs.imports.endpoints import router as imports_router
from companion.knowledge.endpoints import router as knowledge_router
from companion.outreach.endpoints import router as outreach_router
from companion.web.actions import router as actions_router
from companion.web.ai_status import router as ai_status_router
from companion.web.alerts import router as alerts_router
from companion.web.chat import router as chat_router
from companion.web.learning import router as learning_router
from companion.web.memory import router as memory_router
from companion.web.reports import router as reports_router
from companion.web.usage import router as usage_router

DOMAIN_ROUTERS: list[APIRouter] = [
    parties_router,
    items_router,
    stock_router,
    sales_router,
    invoicing_router,
    payments_router,
    ledger_router,
    reports_router,
    purchasing_router,
    chat_router,
    actions_router,
    alerts_router,
    knowledge_router,
    jobs_router,
    imports_router,
    ai_status_router,
    outreach_router,
    usage_router,
    learning_router,
    memory_router,
]
