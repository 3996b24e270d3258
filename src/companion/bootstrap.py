"""The composition root: settings -> adapters -> services; everything starts here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.config import Settings, get_settings
from companion.kit.clock import Clock, SystemClock
from companion.kit.db import make_engine, make_session_factory


@dataclass
class Container:
    """Everything a process needs, built once."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock


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
