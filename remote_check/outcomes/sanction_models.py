"""Tables of the sanctions (notice 四(二)): a violation's cascade, the bars register, the re-checks it set
off, the cities' publications of results (公布反馈) and the parties' objections (异议).

A :class:`Cascade` row is what one confirmed violation did, so that overturning it undoes exactly
that: the bars it entered, the delisting it made (only if the supplier was listed before), the
re-checks it started (each remembering whether it added the project to a sample).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column


class PartyKind(enum.StrEnum):
    """Who a bar or an objection concerns."""

    ENTERPRISE = "enterprise"
    SUPPLIER = "supplier"


class Cascade(Base):
    """One confirmed violation and what it set off."""

    __tablename__ = "cascades"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    violation: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    confirmed_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # True when this cascade delisted the supplier (it was listed before): an overturn relists the supplier
    # when no violation of it stands any more and its delisting is one a cascade made.
    delisted_supplier: Mapped[bool] = mapped_column(Boolean, default=False)
    overturned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Bar(Base):
    """A party barred from applying for public funding (5 years from the confirmation date)."""

    __tablename__ = "sanction_bars"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_kind: Mapped[PartyKind] = mapped_column(enum_column(PartyKind, "party_kind"))
    party_id: Mapped[int] = mapped_column(Integer, index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)  # the last barred day
    reason: Mapped[str] = mapped_column(Text, default="")
    source_project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    cascade_id: Mapped[int | None] = mapped_column(ForeignKey("cascades.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str] = mapped_column(Text, default="")


class Recheck(Base):
    """A project put under re-check (重点核查) by a violation of its supplier elsewhere."""

    __tablename__ = "rechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    cascade_id: Mapped[int] = mapped_column(ForeignKey("cascades.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    # The draw entry the cascade added (the project was not sampled): removed again on an overturn.
    draw_entry_id: Mapped[int | None] = mapped_column(Integer)
    status_before: Mapped[str] = mapped_column(String(24))
    was_under_recheck: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Publication(Base):
    """A city's published results list (公布反馈), frozen as published (no personal data)."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    objection_days: Mapped[int] = mapped_column(Integer)
    objections_until: Mapped[dt.date] = mapped_column(Date)  # the last working day to object
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class ObjectionDecision(enum.StrEnum):
    UPHELD = "upheld"  # the outcome stands
    OVERTURNED = "overturned"


class Objection(Base):
    """An objection (异议) of a project's enterprise or supplier to its published outcome."""

    __tablename__ = "objections"
    __table_args__ = (UniqueConstraint("publication_id", "project_id", "party_kind"),)  # one per party

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    party_kind: Mapped[PartyKind] = mapped_column(enum_column(PartyKind, "party_kind"))
    outcome: Mapped[str] = mapped_column(String(24))  # the outcome objected to
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decision: Mapped[ObjectionDecision | None] = mapped_column(
        enum_column(ObjectionDecision, "objection_decision"), nullable=True
    )
    new_outcome: Mapped[str | None] = mapped_column(String(24))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ObjectionFile(Base):
    """A file (PDF or image) attached to an objection, its type checked by content."""

    __tablename__ = "objection_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Notice(Base):
    """A notice to a city's coordinators or to a project's parties that belongs to no check session
    (a re-check, a published result): sent by e-mail or the city's WeCom robot, or noted as missing an
    address (``status`` "no_address")."""

    __tablename__ = "party_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # recheck, result
    city_code: Mapped[str] = mapped_column(String(4), index=True)
    recipient: Mapped[str] = mapped_column(String(64))  # user:7, wecom:4401, enterprise:3, supplier:5
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending, sending, sent, gave_up, no_address
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
