"""Fixtures of the action framework tests (helpers live in ``action_world``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from action_world import World, make_world
from sqlalchemy.orm import Session

from companion.assistant.actions import base
from companion.kit.registry import Registry


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def registry() -> Iterator[Registry[base.ActionHandler]]:
    """The handler registry, restored after the test (for tests that register their own)."""
    with base._REGISTRY.restored():
        yield base._REGISTRY
