"""The outbox (one row per notice to one recipient) and the experts' calendar feeds."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime


class Kind(enum.StrEnum):
    """What a notice is about."""

    INVITATION = "invitation"  # booked, or an update after a move (a higher version)
    CONNECTIVITY = "connectivity"  # the signal test the working day before
    REMINDER = "reminder"  # shortly before the start
    NO_SHOW = "no_show"  # after the start nobody from the enterprise or supplier came: confirm 不配合
    CANCEL = "cancel"
    MEETING_INVITATION = "m_invitation"  # a province meeting: the nominee's personal link
    MEETING_TEST = "m_test"  # the meeting's signal test, the evening before
    MEETING_TEST_REMINDER = "m_test_remind"  # after the signal test, to those who did not test


MEETING_KINDS = (Kind.MEETING_INVITATION, Kind.MEETING_TEST, Kind.MEETING_TEST_REMINDER)


class Channel(enum.StrEnum):
    EMAIL = "email"
    WECOM = "wecom"  # the city's WeCom group robot
    PAGE = "page"  # a notice on the session's page (nothing leaves the server)


class Status(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one process, which is sending it now
    SENT = "sent"
    FAILED = "failed"  # will be tried again at next_attempt_at
    GAVE_UP = "gave_up"  # failed too often: only a resend tries again
    OBSOLETE = "obsolete"  # no longer true (the session moved or was cancelled before it went out)


class OutboxMessage(Base):
    """One notice to one recipient about a check session or a province meeting (exactly one of
    the two); the unique keys make every notice go out once."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "session_id", "recipient", "version"),
        UniqueConstraint("kind", "meeting_id", "recipient", "version"),
        CheckConstraint("(session_id IS NULL) <> (meeting_id IS NULL)", name="session_or_meeting"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True, default=None
    )
    recipient: Mapped[str] = mapped_column(
        String(64)
    )  # guest:3, expert:5, user:7, wecom:4401, page, nominee:9
    version: Mapped[int] = mapped_column(Integer)  # the session's booking version (1 for a meeting)
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(200))  # the e-mail address, the city of a robot
    name: Mapped[str] = mapped_column(String(100))
    city_code: Mapped[str] = mapped_column(String(4), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(String(500))


class CalendarFeed(Base):
    """An expert's private calendar subscription: only the SHA-256 of its token is stored."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
