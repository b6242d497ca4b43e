"""A province meeting, its speakers, the cities' nominations, signal tests, attendance and questions.

A nomination is either an existing user or a named outsider (单位 + 姓名, e-mail); its personal
link is signed like a guest's (:mod:`scheduler.invitations`) with the nomination's current nonce.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column


class MeetingKind(enum.StrEnum):
    TRAINING = "training"
    OTHER = "other"


class NomineeRole(enum.StrEnum):
    STAFF = "staff"
    EXPERT = "expert"


class Meeting(Base):
    """A meeting the province holds for the cities' people, with its signal test the evening before."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="meeting_interval"),
        CheckConstraint("city_quota > 0", name="meeting_quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind, "meeting_kind"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    join_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    test_starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    test_ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    city_quota: Mapped[int] = mapped_column(Integer, default=12)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)  # +1 when its times change: notices again
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MeetingSpeaker(Base):
    __tablename__ = "meeting_speakers"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class Nomination(Base):
    """One person a city sends to a meeting: a user of the system or a named outsider."""

    __tablename__ = "meeting_nominations"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[NomineeRole] = mapped_column(enum_column(NomineeRole, "nominee_role"))
    nominated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    nominated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    link_nonce: Mapped[str] = mapped_column(String(32))


class SignalTest(Base):
    """What a nominee's browser measured in the signal test (the figures of :mod:`scheduler.connectivity`)."""

    __tablename__ = "meeting_signal_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_nominations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    camera_ok: Mapped[bool] = mapped_column(Boolean)
    microphone_ok: Mapped[bool] = mapped_column(Boolean)
    screen_ok: Mapped[bool] = mapped_column(Boolean)
    fps: Mapped[float] = mapped_column(Float)  # a measurement, not money
    bitrate_kbps: Mapped[int] = mapped_column(Integer)
    rtt_ms: Mapped[int | None] = mapped_column(Integer)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    passed: Mapped[bool] = mapped_column(Boolean)


class Attendance(Base):
    """One stay of a nominee in the meeting: from joining to leaving (open while still there)."""

    __tablename__ = "meeting_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_nominations.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class Question(Base):
    """A question posted in the meeting's text Q&A: hidden until the host shows it."""

    __tablename__ = "meeting_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("meeting_nominations.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    shown: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
