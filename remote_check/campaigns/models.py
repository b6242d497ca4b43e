"""Tables of campaigns and draws (抽查名单)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from remote_check.database import Base, Money, UTCDateTime
from remote_check.programme.models import enum_column


class CampaignStatus(enum.StrEnum):
    PLANNING = "planning"
    CHECKING = "checking"
    CLOSED = "closed"


class DrawStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class DrawMode(enum.StrEnum):
    RATIO = "ratio"
    COUNT = "count"


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("city_code", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    period: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    budget: Mapped[Decimal] = mapped_column(Money())
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.PLANNING
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Draw(Base):
    """One reproducible random draw of a campaign's sample; immutable once published.

    A campaign has at most one published draw: the services lock the campaign's row, and the
    partial unique index below makes the database itself refuse a second one.
    """

    __tablename__ = "draws"
    __table_args__ = (
        Index(
            "uq_draws_published_campaign_id",
            "campaign_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    seed: Mapped[str] = mapped_column(String(64))
    mode: Mapped[DrawMode] = mapped_column(enum_column(DrawMode, "draw_mode"))
    ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    count: Mapped[int | None] = mapped_column(Integer)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The frozen inputs of the draw (every candidate's facts, the peer contracts), so that
    # anyone can redo it later with the seed and get the same list.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    population: Mapped[int] = mapped_column(Integer)
    status: Mapped[DrawStatus] = mapped_column(
        enum_column(DrawStatus, "draw_status"), default=DrawStatus.DRAFT
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    entries: Mapped[list[DrawEntry]] = relationship(
        back_populates="draw", lazy="raise", order_by="DrawEntry.position"
    )


class DrawEntry(Base):
    """A project in a draw, with the reasons it is there."""

    __tablename__ = "draw_entries"
    __table_args__ = (UniqueConstraint("draw_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)

    draw: Mapped[Draw] = relationship(back_populates="entries", lazy="raise")
