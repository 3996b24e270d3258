"""scripts/check_tenancy.py: the lint that keeps tenant reads on ``scoped()``."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_tenancy", ROOT / "scripts" / "check_tenancy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


check = _load()


def codes(source: str) -> list[tuple[int, str]]:
    return [(f.line, f.code) for f in check.check_source(textwrap.dedent(source))]


@pytest.mark.parametrize(
    "source",
    [
        "select(Invoice).where(Invoice.company_id == ctx.company_id)",
        "select(Invoice).where(ctx.company_id == Invoice.company_id)",
        "update(DocumentSequence).where(DocumentSequence.company_id == company_id)",
        "and_(Task.status == 'pending', Task.company_id == ctx.company_id)",
        "exists().where(Line.order_id == Order.id, Line.company_id == ctx.company_id)",
        # a lowercase name is a value unless it was assigned from aliased(...)
        "party = Customer\nselect(party).where(party.company_id == ctx.company_id)",
        "select(Invoice).where(Invoice.company_id == self.ctx.company_id)",
        # a column compared with another object's attribute is still a filter by a value
        "select(Invoice).where(Invoice.company_id == user.company_id)",
        # a hand-made check on loaded objects: load through scoped() instead
        "if invoice.company_id == ctx.company_id:\n    pass",
        "select(Invoice).where(Invoice.company_id == 1)",
    ],
)
def test_a_company_id_equality_with_a_value_is_reported(source: str) -> None:
    found = check.check_source(source)
    assert [f.code for f in found] == ["TEN001"]
    assert "company_id" in found[0].message and "scoped()" in found[0].message


def test_filter_by_company_id_is_reported() -> None:
    assert codes("session.query(Invoice).filter_by(company_id=ctx.company_id)") == [(1, "TEN002")]
    assert codes("select(Invoice).filter_by(number='INV-1', company_id=cid)") == [(1, "TEN002")]


def test_each_comparison_of_a_chain_and_each_line_is_reported() -> None:
    source = """
        stmt = select(A).where(
            A.company_id == ctx.company_id,
            B.company_id == ctx.company_id,
        )
        ok = a == b == A.company_id
    """
    assert codes(source) == [(3, "TEN001"), (4, "TEN001"), (6, "TEN001")]


@pytest.mark.parametrize(
    "source",
    [
        "scoped(select(Invoice), Invoice, ctx).where(Invoice.number == ref)",
        "select(A).where(in_company(A, ctx), in_company(B, ctx))",
        # join conditions between two tables' columns filter by no value
        "select(A).join(B, and_(B.id == A.b_id, B.company_id == A.company_id))",
        "earlier = aliased(Task)\nexists().where(earlier.company_id == Task.company_id)",
        "select(A).join(t, t.c.company_id == A.company_id)",
        "select(A).where(aliased(B).company_id == A.company_id)",
        # not equality: a guard on loaded values, or a list of companies
        "if ctx.company_id != company_id:\n    raise NotFound('x')",
        "select(A).where(A.company_id.in_(ids))",
        # another column, or a name that only contains company_id
        "select(A).where(A.customer_id == ctx.user_id, A.company_id_old == 3)",
        "session.query(A).filter_by(number=ref)",
    ],
)
def test_scoped_reads_join_conditions_and_other_comparisons_pass(source: str) -> None:
    assert check.check_source(source) == []


@pytest.mark.parametrize(
    ("path", "exempt"),
    [
        ("src/companion/erp/items/repository.py", True),
        ("src/companion/assistant/admin_repository.py", True),
        ("src/companion/tenancy/context.py", True),
        ("src/companion/migrations/versions/0001_initial.py", True),
        ("src/companion/assistant/queries/sales.py", False),
        ("src/companion/erp/numbering/service.py", False),
        ("src/companion/erp/repository_helpers.py", False),
    ],
)
def test_tenancy_repositories_and_migrations_are_exempt(path: str, exempt: bool) -> None:
    assert check.exempt(Path(path)) is exempt


def test_main_reports_files_with_their_lines_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "service.py"
    bad.write_text("x = 1\nselect(A).where(A.company_id == ctx.company_id)\n")
    (tmp_path / "repository.py").write_text("select(A).where(A.company_id == ctx.company_id)\n")
    (tmp_path / "clean.py").write_text("scoped(select(A), A, ctx)\n")
    assert check.main([str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"{bad}:2:17: TEN001 " + check.check_source(bad.read_text())[0].message
    ]
    assert "1 hand-written company_id filter" in out.err


def test_main_passes_a_clean_tree_and_refuses_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "clean.py").write_text("scoped(select(A), A, ctx)\n")
    assert check.main([str(tmp_path)]) == 0
    assert check.main([str(tmp_path / "nowhere")]) == 2


def test_the_package_reads_tenant_rows_only_through_tenancy() -> None:
    """What `make lint` runs: src/companion has no hand-written company_id filter."""
    found = check.check_paths([ROOT / "src" / "companion"])
    assert [str(f) for f in found] == []
