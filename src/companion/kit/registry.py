"""Items registered by name from the modules of one package (skills, queries, actions).

Modules register themselves on import, so adding one is adding a module. The package's
modules are imported once, on the first lookup; after that a lookup is a dict read.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named items of one kind; ``package``'s modules (but ``skip``) register them on import."""

    def __init__(
        self, package: str, *, skip: Collection[str] = (), duplicate: str = "{name!r} is taken"
    ) -> None:
        self._package = package
        self._skip = frozenset(skip)
        # How a second, different item for a taken name is refused (formatted with ``name``).
        self._duplicate = duplicate
        self._items: dict[str, T] = {}
        self._loaded = False
        self._loading = False
        self._lock = threading.RLock()

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name``; the same item again is harmless, another one an error."""
        if name in self._items and self._items[name] is not item:
            raise ValueError(self._duplicate.format(name=name))
        self._items[name] = item
        return item

    def get(self, name: str) -> T | None:
        """The item registered under ``name``, if any."""
        self._load()
        return self._items.get(name)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load()
        return sorted(self._items)

    def items(self) -> dict[str, T]:
        """A copy of every registered item by name (in registration order)."""
        self._load()
        return dict(self._items)

    @contextmanager
    def restored(self) -> Iterator[None]:
        """Put the registry back as it was afterwards (tests that register their own items)."""
        self._load()
        saved = dict(self._items)
        try:
            yield
        finally:
            self._items.clear()
            self._items.update(saved)

    def _load(self) -> None:
        if self._loaded:
            return
        # Other threads wait for the whole package; a module of it that looks an item up
        # while it is being imported (same thread) sees what has registered so far.
        with self._lock:
            if self._loaded or self._loading:
                return
            self._loading = True
            try:
                package = importlib.import_module(self._package)
                for module in pkgutil.iter_modules(package.__path__):
                    if module.name not in self._skip:
                        importlib.import_module(f"{self._package}.{module.name}")
                self._loaded = True
            finally:
                self._loading = False
