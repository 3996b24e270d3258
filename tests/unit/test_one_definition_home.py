"""One definition per business measure (docs/decisions/0002): status groups are written in
the domains' ``models.py`` only.

A status group ("open" = posted or partially paid, "placed" purchase orders, ...) is a
tuple, list or set literal holding two or more statuses: enum members (``InvoiceStatus.PAID``,
``S.APPROVED`` through an alias, with or without ``.value``), a spread group
(``*OPEN_STATUSES``), or, inside SQL's ``.in_()``/``.not_in()``, status strings
(``("posted", "paid")``). Anywhere in ``src/companion`` but a ``models.py`` such a literal is
a second definition: import the group from its home instead. A state machine's transition
table (a dict keyed by statuses, ``erp/purchasing/rules.py``) is a rule, not a group, and
is not reported.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.erp.invoicing.models import InvoiceStatus
from companion.erp.payments.models import PaymentStatus
from companion.erp.purchasing.models import POStatus
from companion.erp.sales.models import SalesOrderStatus

SRC = Path(__file__).resolve().parents[2] / "src" / "companion"
STATUS_WORDS = frozenset(
    s.value for enum in (InvoiceStatus, POStatus, SalesOrderStatus, PaymentStatus) for s in enum
)


def _is_home(path: Path) -> bool:
    return path.name == "models.py"


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.enums: set[str] = set()  # names bound to a *Status enum in this file
        self.found: list[int] = []
        self._skip: set[int] = set()  # transition tables' values
        self._in_test: set[int] = set()  # literals in SQL's in_() / not_in()

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name.endswith("Status"):
                self.enums.add(alias.asname or alias.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name.endswith("Status"):
            self.enums.add(node.name)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if node.keys and all(k is not None and self._member(k) for k in node.keys):
            self._skip.update(id(v) for v in node.values)
            for v in node.values:
                self._skip.update(id(n) for n in ast.walk(v))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("in_", "not_in"):
            self._in_test.update(id(a) for a in node.args)
        self.generic_visit(node)

    def _member(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Attribute) and node.attr == "value":
            node = node.value
        return (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in self.enums
        )

    def _group(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Starred) and (
            isinstance(node.value, ast.Name) and node.value.id.endswith("STATUSES")
        )

    def _literal(self, node: ast.Tuple | ast.List | ast.Set) -> None:
        if id(node) in self._skip:
            return
        tested = id(node) in self._in_test
        statuses = sum(
            1
            for e in node.elts
            if self._member(e)
            or self._group(e)
            or (tested and isinstance(e, ast.Constant) and e.value in STATUS_WORDS)
        )
        if statuses >= 2 or (statuses == 1 and any(self._group(e) for e in node.elts)):
            self.found.append(node.lineno)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        self._literal(node)
        self.generic_visit(node)

    def visit_List(self, node: ast.List) -> None:
        self._literal(node)
        self.generic_visit(node)

    def visit_Set(self, node: ast.Set) -> None:
        self._literal(node)
        self.generic_visit(node)


def status_groups(source: str) -> list[int]:
    """Lines of ``source`` that write a status group."""
    finder = _Finder()
    # Imports come first in a file, and a dict or a call is visited before the
    # literals inside it, so one pass knows the enum names and the context of each literal.
    finder.visit(ast.parse(source))
    return sorted(set(finder.found))


def _sources() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or _is_home(path):
            continue
        yield path


def test_status_groups_are_written_only_in_models_modules() -> None:
    found = [
        f"{path.relative_to(SRC.parent)}:{line}"
        for path in _sources()
        for line in status_groups(path.read_text())
    ]
    assert found == [], (
        "status groups written outside a models.py (import them from the domain's models "
        f"module instead, docs/decisions/0002): {found}"
    )


@pytest.mark.parametrize(
    "source",
    [
        "from x import InvoiceStatus\nOPEN = (InvoiceStatus.POSTED, InvoiceStatus.PAID.value)",
        "from x import POStatus as S\nRECEIVABLE = frozenset({S.APPROVED, S.PARTIALLY_RECEIVED})",
        "from x import POStatus\n"
        "P = tuple(s for s in POStatus if s not in (POStatus.DRAFT, POStatus.CANCELLED))",
        "stmt.where(Invoice.status.in_((*OPEN_STATUSES, 'paid')))",
        "stmt.where(Invoice.status.in_(['posted', 'partially_paid']))",
        "from x import InvoiceStatus\nok = status not in (InvoiceStatus.DRAFT, *OPEN_STATUSES)",
    ],
)
def test_a_written_status_group_is_found(source: str) -> None:
    assert status_groups(textwrap.dedent(source)) == [source.count("\n") + 1]


@pytest.mark.parametrize(
    "source",
    [
        "stmt.where(Invoice.status.in_(OPEN_STATUSES))",
        "from x import POStatus\nALIASES = {'pending': (POStatus.PENDING_APPROVAL.value,)}",
        "from x import POStatus as S\nT = {S.DRAFT: frozenset({S.APPROVED, S.CANCELLED})}",
        "WORDS = ('posted', 'paid')",  # words, not tested against a status column
        "if outcome in ('draft', 'cancelled'): pass",  # a Python test of plain words
        "from x import InvoiceStatus\nok = status == InvoiceStatus.PAID",
    ],
)
def test_an_imported_group_or_a_transition_table_is_not_reported(source: str) -> None:
    assert status_groups(textwrap.dedent(source)) == []
