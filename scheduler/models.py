"""Check sessions, their panels and guests, and the bookings that keep resources apart.

A booking holds one resource (a supplier's demonstration team, an expert, an enterprise)
for an interval that includes the buffer the resource needs. On PostgreSQL an exclusion
constraint makes overlapping bookings of one resource impossible; on SQLite the booking
service checks and inserts inside one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column


class SessionStatus(enum.StrEnum):
    """What is stored of a session's life (see :mod:`scheduler.life` for the steps, and for
    "open", which is derived from the time)."""

    BOOKED = "booked"
    IN_PROGRESS = "in_progress"  # someone entered its open room
    DONE = "done"  # completed
    INTERRUPTED = "interrupted"  # the server died while it was recorded
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"  # the enterprise or supplier did not come


VOID = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
"""Sessions that did not and will not take place: they give their panel nothing of the project."""


class GuestKind(enum.StrEnum):
    ENTERPRISE = "enterprise"  # 企业: operates and demonstrates
    SUPPLIER = "supplier"  # 服务商: may add
    OBSERVER = "observer"


class PanelRole(enum.StrEnum):
    LEAD = "lead"
    MEMBER = "member"


class CheckSession(Base):
    __tablename__ = "check_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus, "session_status"), default=SessionStatus.BOOKED
    )
    host_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The host opened the room before its window (``None``: it opens by the clock).
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The first entry into the open room, and the end (completed, no-show, cancelled) and who said so.
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped by every move (a new time or panel): notices are sent once per version, and calendars
    # read a higher version (the iCalendar SEQUENCE) as an update of the same event.
    booking_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    panel: Mapped[list[PanelSeat]] = relationship(back_populates="session", lazy="raise")
    guests: Mapped[list[Guest]] = relationship(back_populates="session", lazy="raise")


class PanelSeat(Base):
    """An expert on a session's panel."""

    __tablename__ = "panel_seats"
    __table_args__ = (UniqueConstraint("session_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    role: Mapped[PanelRole] = mapped_column(enum_column(PanelRole, "panel_role"), default=PanelRole.MEMBER)

    session: Mapped[CheckSession] = relationship(back_populates="panel", lazy="raise")


class Guest(Base):
    """An enterprise, supplier or observer person invited to one session, by a signed link."""

    __tablename__ = "guests"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[GuestKind] = mapped_column(enum_column(GuestKind, "guest_kind"))
    organisation: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    # Changing the nonce invalidates every link issued before.
    link_nonce: Mapped[str] = mapped_column(String(32))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[CheckSession] = relationship(back_populates="guests", lazy="raise")


class Hold(Base):
    """A time a coordinator holds for a project while filling the booking form.

    Its resources are rows of ``bookings`` (so the exclusion constraint and the SQLite writer
    lock cover them like any booking's); it lapses by itself at ``expires_at``, compared with the
    app's clock: a lapsed hold's rows are ignored by every query and deleted by the next booking
    that needs their time. Booking the project by the holder converts it.
    """

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    panel: Mapped[list[int]] = mapped_column(JSON)  # expert ids, the lead first
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Booking(Base):
    """One resource held for one session, or for one hold, over ``[starts_at, ends_at)`` (buffer
    included)."""

    __tablename__ = "bookings"
    __table_args__ = (CheckConstraint("(session_id IS NULL) <> (hold_id IS NULL)", name="one_owner"),)
    # PostgreSQL also carries the exclusion constraint ``ex_bookings_no_overlap``
    # (resource WITH =, tstzrange(starts_at, ends_at) WITH &&), made by the migration.

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True
    )
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id", ondelete="CASCADE"), index=True)
    resource: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    slot: Mapped[int] = mapped_column(Integer, default=0)


class ConnectivityCheck(Base):
    """One connectivity test ("the day before") by an invited person: a guest by their link or a
    signed-in user. Permissions granted, and what a media round trip through the server measured."""

    __tablename__ = "connectivity_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True)
    guest_id: Mapped[int | None] = mapped_column(ForeignKey("guests.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    camera_ok: Mapped[bool] = mapped_column(Boolean)
    microphone_ok: Mapped[bool] = mapped_column(Boolean)
    screen_ok: Mapped[bool] = mapped_column(Boolean)
    fps: Mapped[float] = mapped_column(Float)  # a measurement, not money
    bitrate_kbps: Mapped[int] = mapped_column(Integer)
    rtt_ms: Mapped[int | None] = mapped_column(Integer)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    passed: Mapped[bool] = mapped_column(Boolean)
