"""Fixtures of the action framework tests (helpers live in ``action_world``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from action_world import World, make_world
from sqlalchemy.orm import Session

from companion.assistant.actions import base


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def registry() -> Iterator[dict[str, base.ActionHandler]]:
    """The handler registry, restored after the test (for tests that register their own)."""
    base.action_for("approve_purchase_order")  # load the shipped handlers first
    saved = dict(base._REGISTRY)
    yield base._REGISTRY
    base._REGISTRY.clear()
    base._REGISTRY.update(saved)
