"""What the database knows of a session's recording: its parts, the experts' marks and stills, and
the replay file rendered after the call.

The media themselves are files under ``<data>/recordings/session-<id>/part-<n>/`` (see
:mod:`media.recorder`). Every part of one session is on one clock: session time 0 is the
moment the first part started (``RecordingPart.origin_at`` of part 1, repeated in every part), so
that a mark's ``start``/``end`` seconds are also its time in the replay file.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column


class PartState(enum.StrEnum):
    RECORDING = "recording"  # files are being written (or the recording is paused)
    STOPPED = "stopped"  # finished by the host or when the call ended: manifest signed
    INTERRUPTED = "interrupted"  # the server died while recording; finalised at the next start


class ReplayState(enum.StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"


class RecordingPart(Base):
    """One part of a session's recording: the files written between a start and a stop (or a crash)."""

    __tablename__ = "recording_parts"
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    folder: Mapped[str] = mapped_column(String(200))  # relative to <data>/recordings
    origin_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # session time 0 (the recording's clock)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[PartState] = mapped_column(enum_column(PartState, "recording_part_state"))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))


class ItemMark(Base):
    """An expert's mark: a checklist item was shown from ``start`` to ``end`` seconds on the
    session's recording clock (stamped by the server; ``end`` is unset while the item is shown)."""

    __tablename__ = "item_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Still(Base):
    """A still of the screen share taken by an expert as evidence for an item, at ``at`` seconds
    on the session's clock; the image is ``file`` under the part's folder."""

    __tablename__ = "stills"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_items.id", ondelete="SET NULL"))
    part_number: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(200))  # relative to <data>/recordings
    at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Replay(Base):
    """The replay file of a session (all parts joined), rendered after the call."""

    __tablename__ = "replays"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("check_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[ReplayState] = mapped_column(enum_column(ReplayState, "replay_state"))
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    parts: Mapped[int] = mapped_column(Integer, default=0)  # how many parts the file holds
    duration: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
