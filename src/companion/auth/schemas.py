"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from companion.auth.passwords import MAX_PASSWORD_LENGTH
from companion.kit.fields import Id, Text


class LoginIn(BaseModel):
    """Username and password; anything else in the body is refused."""

    model_config = ConfigDict(extra="forbid")

    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None


class CompanyAccessOut(BaseModel):
    slug: str
    name: str
    roles: list[str]


class LoginOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    user: UserOut
    companies: list[CompanyAccessOut]


class ActiveCompanyOut(BaseModel):
    slug: str
    name: str
    currency: str


class MeOut(BaseModel):
    """Who the caller is, in which company, and what they may do there."""

    user: UserOut
    company: ActiveCompanyOut
    roles: list[str]
    permissions: list[str]
    companies: list[CompanyAccessOut]
    api_key_id: int | None = None


class ApiKeyIn(BaseModel):
    """A new API key of the active company; the owner defaults to the caller."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=100)
    roles: list[Annotated[Text, Field(max_length=64)]] = Field(min_length=1, max_length=20)
    expires_at: dt.datetime | None = None
    user_id: Id | None = None


class ApiKeyOut(BaseModel):
    """An API key without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    user_id: int
    roles: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    """A new API key with its plaintext: shown this once, never stored."""

    key: str
