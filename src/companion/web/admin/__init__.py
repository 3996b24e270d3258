"""The command center at ``/admin/``: server-rendered pages for a company's administrators."""

from fastapi import APIRouter

from companion.web.admin.actions import router as actions_router
from companion.web.admin.alerts import router as alerts_router
from companion.web.admin.audit import router as audit_router
from companion.web.admin.conversations import router as conversations_router
from companion.web.admin.jobs import router as jobs_router
from companion.web.admin.knowledge import body_limits
from companion.web.admin.knowledge import router as knowledge_router
from companion.web.admin.learning import router as learning_router
from companion.web.admin.models import router as models_router
from companion.web.admin.overview import router as overview_router
from companion.web.admin.signin import router as signin_router
from companion.web.admin.usage import router as usage_router

# Sign-in, static files and fixed paths first: they must win over "/admin/{company}/...".
ADMIN_ROUTERS: list[APIRouter] = [
    signin_router,
    knowledge_router,
    overview_router,
    conversations_router,
    actions_router,
    alerts_router,
    jobs_router,
    models_router,
    usage_router,
    learning_router,
    audit_router,
]

__all__ = ["ADMIN_ROUTERS", "body_limits"]
