"""kit.registry: a package's modules register on the first lookup, once; duplicates refused."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.kit.registry import Registry


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[str]:
    """A throwaway package ``regplugins`` whose modules register into ``regplugins.REG``."""
    package = tmp_path / "regplugins"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from companion.kit.registry import Registry\n"
        "REG: Registry[str] = Registry('regplugins', skip={'helper'}, duplicate='{name!r} twice')\n"
        "IMPORTS: list[str] = []\n"
    )
    for name in ("alpha", "beta"):
        (package / f"{name}.py").write_text(
            "from regplugins import IMPORTS, REG\n"
            f"IMPORTS.append({name!r})\n"
            f"REG.register({name!r}, {name.upper()!r})\n"
        )
    (package / "helper.py").write_text("raise RuntimeError('skipped modules are not imported')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield "regplugins"
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == "regplugins" or m.startswith("regplugins.")]:
            del sys.modules[module]


def test_modules_are_imported_on_the_first_lookup_only(plugins: str) -> None:
    package = __import__(plugins)
    registry: Registry[str] = package.REG
    assert package.IMPORTS == []
    assert registry.get("alpha") == "ALPHA"
    assert registry.names() == ["alpha", "beta"]
    assert registry.items() == {"alpha": "ALPHA", "beta": "BETA"}
    assert registry.get("gamma") is None
    assert sorted(package.IMPORTS) == ["alpha", "beta"]  # once, not per lookup


def test_a_different_item_for_a_taken_name_is_refused(plugins: str) -> None:
    registry: Registry[str] = __import__(plugins).REG
    shipped = registry.get("alpha")
    assert shipped is not None
    with pytest.raises(ValueError, match="'alpha' twice"):
        registry.register("alpha", "another")
    assert registry.register("alpha", shipped) is shipped  # the same one again is harmless
    assert registry.get("alpha") == "ALPHA"


def test_restored_undoes_what_a_test_registered(plugins: str) -> None:
    registry: Registry[str] = __import__(plugins).REG
    with registry.restored():
        registry.register("gamma", "GAMMA")
        assert registry.get("gamma") == "GAMMA"
    assert registry.get("gamma") is None
    assert registry.names() == ["alpha", "beta"]


def test_a_failed_import_is_retried_on_the_next_lookup(tmp_path: Path) -> None:
    package = tmp_path / "regbroken"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "only.py"
    module.write_text("raise ImportError('not yet')\n")
    registry: Registry[str] = Registry("regbroken")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ImportError, match="not yet"):
            registry.get("only")
        module.write_text(
            "from tests_registry_target import REGISTRY\nREGISTRY.register('only', 'ONLY')\n"
        )
        sys.modules["tests_registry_target"] = type(sys)("tests_registry_target")
        sys.modules["tests_registry_target"].REGISTRY = registry  # type: ignore[attr-defined]
        assert registry.get("only") == "ONLY"
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("regbroken", "regbroken.only", "tests_registry_target"):
            sys.modules.pop(name, None)
