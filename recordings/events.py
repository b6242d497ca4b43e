"""A room's recording steps, as the room reports them: built by the room (``media.room``, in its
media worker), carried typed to the web process, audited by the signalling endpoint and applied by
:func:`recordings.service.apply_event` in the audit's transaction. Plain frozen dataclasses, so that
they cross the worker hop as they are (``media.calls`` validates them once at the edge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

START = "recording.start"
STOP = "recording.stop"


@dataclass(frozen=True)
class RecordingStarted:
    """A part of the session's recording began: its number, its folder (relative to the recordings
    folder: ``session-7/part-2``) and the server time (Unix seconds) of session time 0, the same
    for every part of a session."""

    part: int
    folder: str
    origin: float
    action: Literal["recording.start"] = "recording.start"


@dataclass(frozen=True)
class RecordingStopped:
    """A part of the session's recording ended: its files are closed and its folder signed
    (``manifest_sha256``: the SHA-256 of its manifest)."""

    part: int
    folder: str
    manifest_sha256: str
    action: Literal["recording.stop"] = "recording.stop"


RecordingEvent = RecordingStarted | RecordingStopped
