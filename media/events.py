"""What a room reports for the audit log: a moderation step (:class:`AuditEvent`) or a recording
step (:class:`~recordings.events.RecordingStarted`, :class:`~recordings.events.RecordingStopped`).

The room returns them from the host's ``command``, ``leave`` and ``continue_recording``; they cross
the worker hop typed (``media.calls``) and the signalling endpoint audits them (and applies a
recording step with :func:`recordings.service.apply_event`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from recordings.events import RecordingStarted, RecordingStopped

AuditAction = Literal[
    "room.join",
    "room.leave",
    "room.admit",
    "room.remove",
    "room.mute_all",
    "room.open_to_guests",
    "room.close_to_guests",
    "recording.pause",
    "recording.resume",
]


@dataclass(frozen=True)
class AuditEvent:
    """A step the audit log keeps: who it is about (``subject``: an identity such as ``guest:3``),
    or for a recording's pause and resume the part's folder; empty when it is about everyone."""

    action: AuditAction
    subject: str = ""


RoomEvent = Annotated[AuditEvent | RecordingStarted | RecordingStopped, Field(discriminator="action")]
"""Any event a room reports (a tagged union: ``action`` tells which)."""
