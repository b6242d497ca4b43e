"""Request and response shapes of the accounts API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from remote_check.accounts.models import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class MeResponse(BaseModel):
    user_id: int
    display_name: str
    role: Role
    city_code: str | None
    csrf_token: str


class UserCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    password: str = Field(min_length=1, max_length=200)
    city_code: str | None = Field(default=None, pattern=r"^\d{4}$")
    organisation: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    organisation: str
    role: Role
    city_code: str | None
    active: bool


class UserList(BaseModel):
    items: list[UserOut]
