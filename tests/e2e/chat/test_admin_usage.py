"""The command center's usage page, and its sign-in form under the sign-in rate limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from admin_support import csrf_of, sign_in
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.auth import service as auth_service
from companion.bootstrap import Container
from companion.config import BudgetCaps, RateLimitSettings
from companion.governance.usage.budgets import Payer
from companion.governance.usage.service import CallFigures
from companion.tenancy.models import Company


def record_usage(container: Container, session: Session, username: str, slug: str) -> Payer:
    user = auth_service.get_user_by_username(session, username)
    company = session.query(Company).filter_by(slug=slug).one()
    payer = Payer(company.id, slug, user.id, company.timezone)
    metering = container.usage_meter().metering
    figures = CallFigures("knowledge_answer", "openai_compat", "gpt-test", 1200, 300, 850.0)
    metering.record(payer, figures, Decimal("0.0123"), container.clock.now(), session)
    session.commit()
    return payer


def test_finance_sees_the_months_usage_and_the_budget_warnings(
    chat_client: TestClient, demo_container: Container, demo_session: Session
) -> None:
    demo_container.settings.usage.budgets = BudgetCaps(company_month_tokens=1000)
    payer = record_usage(demo_container, demo_session, "finance", "acme")
    budgets = demo_container.usage_meter().metering.budgets
    budgets.reserve(payer, demo_container.clock.now(), tokens=900, cost=Decimal(0))
    demo_session.commit()
    sign_in(chat_client, "finance")
    page = chat_client.get("/admin/acme/usage")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-figure="model_calls">1 ' in html and "USD 0.0123" in html
    assert "gpt-test" in html and "knowledge_answer" in html
    assert 'data-budget="company_month_tokens"' in html and "90% used" in html
    assert 'href="/admin/acme/usage"' in html  # the menu has the page
    # A bad day is the form's error, not a 500.
    bad = chat_client.get("/admin/acme/usage", params={"date_from": "2026-02-30"})
    assert bad.status_code == 422 and "date_from" in bad.text


def test_another_company_and_other_roles_do_not_see_it(
    chat_client: TestClient, demo_container: Container, demo_session: Session
) -> None:
    record_usage(demo_container, demo_session, "gfinance", "globex")
    sign_in(chat_client, "ceo")
    acme = chat_client.get("/admin/acme/usage")
    assert acme.status_code == 200 and "gpt-test" not in acme.text
    assert "gpt-test" in chat_client.get("/admin/globex/usage").text
    sign_in(chat_client, "finance")
    assert chat_client.get("/admin/globex/usage").status_code == 403
    sign_in(chat_client, "buyer")
    assert chat_client.get("/admin/acme/usage").status_code == 403


def test_the_sign_in_form_is_locked_after_failed_tries(
    chat_client: TestClient, demo_container: Container, login: Any
) -> None:
    demo_container.settings.rate_limits = RateLimitSettings(login_per_username="3 per minute")
    demo_container._rate_limiter = demo_container._usage = None
    form = chat_client.get("/admin/login")
    csrf = csrf_of(form.text)

    def attempt(password: str) -> int:
        data = {"username": "finance", "password": password, "csrf": csrf}
        return chat_client.post("/admin/login", data=data, follow_redirects=False).status_code

    assert [attempt("wrong") for _ in range(3)] == [401, 401, 401]
    assert attempt("demo") == 429
    # The API's sign-in shares the count.
    api = chat_client.post("/api/v1/auth/login", json={"username": "finance", "password": "demo"})
    assert api.status_code == 429 and "Retry-After" in api.headers
