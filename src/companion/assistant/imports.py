"""The data-imports port: what the chat asks of imports, which live above the assistant.

Imports (``jobs.imports``) sit on a floor above the assistant, so the assistant cannot
import them: it states here what it needs (the latest import, one import by number, its
commit queued) and the jobs layer installs the adapter (``jobs.imports.chat.install``)
where a process builds its container (the app, ``companion ask``). Without one, the skill
says imports cannot be reached from here.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from companion.tenancy.context import RequestContext


@dataclass(frozen=True)
class ImportFacts:
    """One import as the chat shows it: status, counts, first row errors, its job."""

    id: int
    kind: str
    filename: str
    status: str
    total_rows: int
    valid_rows: int
    error_count: int
    duplicate_count: int
    # The first row errors: {line, column, message, value}, in file order.
    errors: list[dict[str, Any]] = field(default_factory=list)
    created_at: dt.datetime | None = None
    committed_at: dt.datetime | None = None
    # The job working on it (validation or commit) and how far it is.
    job_id: str | None = None
    progress: float | None = None
    job_message: str | None = None
    # The last status change's message ("Wrote 250 rows", a failure's reason).
    last_message: str | None = None

    @property
    def what(self) -> str:
        """``import 12 (customers, file.csv)``."""
        return f"import {self.id} ({self.kind.replace('_', ' ')}, {self.filename})"


class DataImports(Protocol):
    """The imports the caller may see; another company's import is NotFound like a missing one.

    Every method raises ``PermissionDenied`` (naming the roles) when the caller may import
    no kind at all, or not the kind of the import asked about.
    """

    def kinds(self, ctx: RequestContext) -> list[str]:
        """The kinds the caller may import (customers, suppliers, items, opening_balances)."""
        ...

    def latest(self, session: Session, ctx: RequestContext, kind: str | None) -> ImportFacts | None:
        """The newest import of ``kind`` (None: of any kind the caller may import)."""
        ...

    def get(self, session: Session, ctx: RequestContext, import_id: int) -> ImportFacts:
        """One import by number."""
        ...

    def commit(self, session: Session, ctx: RequestContext, import_id: int) -> ImportFacts:
        """Queue the commit job of a validated import (it starts after the caller commits)."""
        ...


_PORT: DataImports | None = None
_LOCK = threading.Lock()


def install_imports(port: DataImports | None) -> DataImports | None:
    """Use ``port`` for the chat's imports from now on; the one it replaces."""
    global _PORT
    with _LOCK:
        previous, _PORT = _PORT, port
    return previous


def imports_port() -> DataImports | None:
    """The installed adapter, or None where this process has none."""
    return _PORT
