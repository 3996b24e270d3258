"""Fixtures of the action-handler tests: two companies built through the ERP services."""

from __future__ import annotations

import pytest
from handler_world import World, build_world
from sqlalchemy.orm import Session


@pytest.fixture
def acme(session: Session) -> World:
    return build_world(session, "acme")


@pytest.fixture
def globex(session: Session, acme: World) -> World:
    return build_world(session, "globex", "USD")
