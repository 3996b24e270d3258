"""A period before the company's first recorded sale: no figure is claimed for it."""

from __future__ import annotations

import datetime as dt

from query_sql import ask, sql
from query_world import World
from sqlalchemy.orm import Session

from companion.assistant.answers import date_text


def test_sales_before_any_record_say_the_records_start_not_nil(qs: Session, a: World) -> None:
    ctx = a.ctx["sales"]
    ((first,),) = sql(
        qs,
        """SELECT MIN(issue_date) FROM invoices WHERE company_id = :c AND kind = 'ar'
        AND status IN ('posted', 'partially_paid', 'paid')""",
        c=a.id,
    )
    first = dt.date.fromisoformat(str(first)[:10])
    before = ask(qs, ctx, "sales_summary", period={"start": "2019-01-01", "end": "2019-12-31"})
    assert before.rows == []
    assert "nil" not in before.summary and "no invoices were issued" not in before.summary
    assert f"Companion has no sales recorded before {date_text(first)}" in before.summary
    assert "2019" in before.summary


def test_the_first_recorded_day_is_answered_with_its_sales(qs: Session, a: World) -> None:
    ctx = a.ctx["sales"]
    ((first,),) = sql(
        qs,
        """SELECT MIN(issue_date) FROM invoices WHERE company_id = :c AND kind = 'ar'
        AND status IN ('posted', 'partially_paid', 'paid')""",
        c=a.id,
    )
    day = str(first)[:10]
    found = ask(qs, ctx, "sales_summary", period={"start": day, "end": day})
    assert found.rows and found.totals["sales"] > 0
    assert "no sales recorded" not in found.summary
