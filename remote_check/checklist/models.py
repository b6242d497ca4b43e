"""Checklist items of a project."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column


class Standard(enum.StrEnum):
    IMPLEMENTATION = "implementation"  # 实施真实
    FINANCE = "finance"  # 财务规范
    FUNCTION = "function"  # 功能完整


class ItemResult(enum.StrEnum):
    PENDING = "pending"
    PASS = "pass"  # noqa: S105 - a result, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "na"


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("project_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    standard: Mapped[Standard] = mapped_column(enum_column(Standard, "checklist_standard"))
    position: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    guidance_zh: Mapped[str] = mapped_column(Text)
    guidance_en: Mapped[str] = mapped_column(Text)
    evidence_zh: Mapped[str] = mapped_column(Text)
    evidence_en: Mapped[str] = mapped_column(Text)
    result: Mapped[ItemResult] = mapped_column(
        enum_column(ItemResult, "item_result"), default=ItemResult.PENDING
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
