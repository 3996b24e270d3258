"""Knowledge API fixtures: the e2e app with its index in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import make_settings
from sqlalchemy.engine import Engine

from companion.config import Settings


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """The e2e settings with ``data_dir`` (where the local index lives) per test."""
    return make_settings(engine.url.render_as_string(hide_password=False), data_dir=tmp_path)
