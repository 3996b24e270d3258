"""Typed settings, read from ``COMPANION_*`` environment variables.

Nested groups use a double underscore: ``COMPANION_AUTH__TOKEN_TTL_MINUTES=60``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-demo-secret-not-for-production"


class AuthSettings(BaseModel):
    """Bearer tokens and API keys."""

    secret_key: str = DEFAULT_SECRET
    token_ttl_minutes: int = Field(default=8 * 60, ge=1)
    algorithm: str = "HS256"


class ApiSettings(BaseModel):
    """HTTP limits."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=500, ge=1)


class AssistantSettings(BaseModel):
    """The chat core."""

    max_message_chars: int = Field(default=4000, ge=1)


class Settings(BaseSettings):
    """All of Companion's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="COMPANION_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = "sqlite:///./var/companion.db"
    database_echo: bool = False
    demo_mode: bool = False
    today: dt.date | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    data_dir: Path = Path("./var")
    auth: AuthSettings = AuthSettings()
    api: ApiSettings = ApiSettings()
    assistant: AssistantSettings = AssistantSettings()

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if not self.demo_mode and self.auth.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "COMPANION_AUTH__SECRET_KEY is the built-in demo secret; set a real secret "
                "or run in demo mode (COMPANION_DEMO_MODE=true)"
            )
        return self

    def current_date(self) -> dt.date:
        """The business 'today': COMPANION_TODAY when set, else the real date."""
        return self.today or dt.date.today()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
