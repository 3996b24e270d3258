"""Fail on a tenant filter written by hand: tenant rows are read through ``scoped()``.

The rule (README, CONTRIBUTING, docs/security.md): a read of tenant rows is restricted to
the caller's company by ``companion.tenancy.context`` (``scoped(stmt, Model, ctx)`` for a
statement, ``in_company(Model, ctx)`` for a condition inside ``exists()`` or ``and_()``),
or by a domain's ``repository.py``, which holds the SQL. Anywhere else, in
``src/companion``, this check reports:

- ``TEN001``: an equality with a ``company_id`` attribute on either side
  (``Invoice.company_id == ctx.company_id``, ``DocumentSequence.company_id == company_id``),
  wherever it appears (``.where(...)``, ``and_(...)``, ``exists().where(...)``, ``if``);
- ``TEN002``: ``filter_by(company_id=...)``.

Allowed, because they filter by no value: an equality between two tables' ``company_id``
columns, a join condition such as ``A.company_id == B.company_id``. A side counts as a
column when it is ``<Model>.company_id`` with a capitalised class name, ``<alias>.company_id``
for a name assigned from ``aliased(...)`` in the same file, ``aliased(...).company_id`` or
``<table>.c.company_id``. Anything else (``ctx.company_id``, ``user.company_id``, a plain
name) is a value, so comparing a column with it is a filter and is reported, and so is a
comparison of two values (a hand-made tenant check on loaded objects: load through
``scoped()`` instead). ``!=`` and ``in_()`` are not tenant filters and are not checked.

Not checked: ``src/companion/tenancy/`` (the helper itself), repositories (files named
``repository.py`` or ``*_repository.py``: the SQL lives there and filters ``company_id`` in
it) and ``migrations/``.

Dependency-free (the standard library's ``ast``) so ``make lint`` runs it before anything
is installed beyond Python. Usage: ``python scripts/check_tenancy.py [PATH ...]`` (default
``src/companion``); exit status 1 when anything is reported.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

COLUMN = "company_id"
DEFAULT_ROOT = Path("src/companion")


@dataclass(frozen=True)
class Finding:
    """One hand-written tenant filter."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col + 1}: {self.code} {self.message}"


def exempt(path: Path) -> bool:
    """Whether ``path`` may filter ``company_id`` itself (tenancy, repositories, migrations)."""
    parts = path.parts
    repository = path.name == "repository.py" or path.name.endswith("_repository.py")
    return repository or "tenancy" in parts or "migrations" in parts


def _aliases(tree: ast.AST) -> set[str]:
    """Names assigned from ``aliased(...)`` anywhere in the module (tables under a new name)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and _is_aliased_call(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _is_aliased_call(node: ast.AST | None) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "aliased"


def _is_company_attr(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == COLUMN


def _is_column(node: ast.AST, aliases: set[str]) -> bool:
    """``node`` is a ``company_id`` column of a table, not a value (see the module doc)."""
    if not isinstance(node, ast.Attribute) or node.attr != COLUMN:
        return False
    base = node.value
    if isinstance(base, ast.Name):
        return base.id[:1].isupper() or base.id in aliases
    if isinstance(base, ast.Attribute) and base.attr == "c":  # table.c.company_id
        return True
    return _is_aliased_call(base)


def check_source(source: str, path: str = "<string>") -> list[Finding]:
    """The hand-written tenant filters in one module's source."""
    tree = ast.parse(source, filename=path)
    aliases = _aliases(tree)
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                pair = (left, right)
                if (
                    isinstance(op, ast.Eq)
                    and any(_is_company_attr(side) for side in pair)
                    and not all(_is_column(side, aliases) for side in pair)
                ):
                    found.append(
                        Finding(
                            path,
                            node.lineno,
                            node.col_offset,
                            "TEN001",
                            f"'{ast.unparse(left)} == {ast.unparse(right)}' filters "
                            f"{COLUMN} by hand; use tenancy.context.scoped() or in_company()",
                        )
                    )
                left = right
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "filter_by":
            if any(k.arg == COLUMN for k in node.keywords):
                found.append(
                    Finding(
                        path,
                        node.lineno,
                        node.col_offset,
                        "TEN002",
                        f"filter_by({COLUMN}=...) filters by hand; use tenancy.context.scoped()",
                    )
                )
    return sorted(found, key=lambda f: (f.line, f.col))


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every ``.py`` file under ``paths`` that the rule applies to, in a stable order."""
    for root in paths:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        yield from (f for f in files if not exempt(f))


def check_paths(paths: Iterable[Path]) -> list[Finding]:
    """The findings of every checked file under ``paths``."""
    found: list[Finding] = []
    for file in python_files(paths):
        found.extend(check_source(file.read_text(encoding="utf-8"), str(file)))
    return found


def main(argv: list[str]) -> int:
    """Print the findings; 1 if there are any, 0 if none."""
    roots = [Path(arg) for arg in argv] or [DEFAULT_ROOT]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        print(f"check_tenancy: no such path: {', '.join(missing)}", file=sys.stderr)
        return 2
    found = check_paths(roots)
    for finding in found:
        print(finding)
    if found:
        print(
            f"check_tenancy: {len(found)} hand-written company_id filter(s); "
            "read tenant rows through companion.tenancy.context (see scripts/check_tenancy.py)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
