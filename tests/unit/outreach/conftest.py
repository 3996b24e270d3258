"""Unit tests never call a real model: the switch makes any such call fail loudly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from companion.llm.providers.base import allow_model_requests


@pytest.fixture(autouse=True)
def block_model_requests() -> Iterator[None]:
    allow_model_requests(False)
    yield
    allow_model_requests(True)
