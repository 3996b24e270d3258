"""The composition root: settings -> adapters -> services; everything starts here."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.config import Settings, get_settings
from companion.kit.clock import Clock, SystemClock
from companion.kit.db import make_engine, make_session_factory

if TYPE_CHECKING:
    from companion.assistant.service import Assistant


@dataclass
class Container:
    """Everything a process needs, built once."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    _assistant: Assistant | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def assistant(self) -> Assistant:
        """The chat core, built on first use (loading the language model takes a moment)."""
        with self._lock:
            if self._assistant is None:
                self._assistant = build_assistant(self)
            return self._assistant


def build_assistant(container: Container) -> Assistant:
    """The assistant with the shipped NLU, its trained model cached under the data dir."""
    from companion.assistant.nlu import NLU
    from companion.assistant.service import Assistant
    from companion.assistant.understanding import CompanyNLU

    settings = container.settings
    nlu = NLU.load(cache_dir=settings.data_dir / "nlu")
    return Assistant(
        CompanyNLU(nlu),
        container.clock,
        max_message_chars=settings.assistant.max_message_chars,
    )


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> Container:
    """Build the container; tests pass their own engine, session factory or clock."""
    settings = settings or get_settings()
    if engine is None:
        if settings.database_url.startswith("sqlite:///./") or settings.database_url.startswith(
            "sqlite:///var"
        ):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url, echo=settings.database_echo)
    return Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory or make_session_factory(engine),
        clock=clock or SystemClock(settings.today),
    )
