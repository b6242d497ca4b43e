"""Users and their log-in sessions."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column


class Role(enum.StrEnum):
    PROVINCE_ADMIN = "province_admin"  # 省级管理员
    CITY_COORDINATOR = "city_coordinator"  # 地市协调员
    EXPERT = "expert"  # 专家
    AUDITOR = "auditor"  # 审计员 (province-wide when city_code is None)
    ALLIANCE_STAFF = "alliance_staff"  # 产业联盟工作人员 (cluster projects)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    city_code: Mapped[str | None] = mapped_column(ForeignKey("cities.code"))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LoginThrottleRow(Base):
    """Failed log-ins counted per key, shared by every server process (``accounts/throttle.py``).

    ``kind`` is ``addr`` (a client address), ``name`` (a lower-cased user name) or ``pair``
    (an address and a user name). ``claim`` is the token of the last attempt let through, so
    that one ``UPDATE … RETURNING`` tells an attempt whether it was the one admitted.
    """

    __tablename__ = "login_throttle"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    next_allowed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claim: Mapped[str] = mapped_column(String(32))
