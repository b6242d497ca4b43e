"""Recording a room: every forwarded frame, stream-copied into one file per participant and source.

Opt-in: nothing here runs until the host starts recording. The room then sets each feed's ``tap``
to :meth:`RoomRecorder.tap`, which places the frame on the session clock and queues it in the
:class:`~recordings.writer.TrackWriter` of its participant and source (camera, microphone and screen
each in a file of their own), made on first use: ``<folder>/<participant>-<source>.mkv``.
``tap`` only appends to the writer's queue, so it is safe on the event loop.

Timestamps: each feed is a track of the :class:`~recordings.clock.SessionClock`, placed by the
server's arrival time of its first frame and its RTP timestamps after it, until the publisher's
first RTCP sender report for it arrives (``media.internals.on_sender_report``, hooked on the
feed's receiver only while recording): from then on the report's NTP time places it, so that the
camera and the microphone of one person line up (lip sync).

Stop closes the writers in a worker thread, writes ``index.json`` (which file holds which
participant, name and source) and the signed manifest of the folder, and gives the manifest's
SHA-256 for the audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av

from media.internals import SenderReportCallback, on_sender_report, rtp_origin
from recordings.clock import RTP_MODULO, SenderReport, SessionClock
from recordings.integrity import Part, manifest_digest, write_manifest_async
from recordings.writer import EncodedFrame, TrackSpec, TrackWriter

if TYPE_CHECKING:
    from media.forwarding import Feed

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"


@dataclass(frozen=True)
class RecordedFile:
    """One file of the recording: whose, which source, which kind of track."""

    name: str
    participant: str
    person: str
    source: str
    kind: str


def recording_origin(session_folder: Path) -> float | None:
    """Session time 0 of a session's recording: the origin its first part wrote in its index, so
    that every later part (after a stop, or after a crash) is on the same clock; None when none."""
    try:
        index = json.loads((session_folder / "part-1" / INDEX_NAME).read_text("utf-8"))
        return float(index["origin"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def next_part(session_folder: Path) -> Path:
    """The folder of the next part of a session's recording (``part-1``, ``part-2``...)."""
    taken = {int(p.name[5:]) for p in session_folder.glob("part-*") if p.name[5:].isdigit()}
    number = 1
    while number in taken:
        number += 1
    return session_folder / f"part-{number}"


class RoomRecorder:
    """The recording of one room into ``folder`` (a part of the session's recording), its
    manifest signed with ``key``; ``origin`` is the server time of session time 0 (default: now)."""

    def __init__(self, folder: Path, session_id: str, key: bytes, *, origin: float | None = None) -> None:
        self.folder = folder
        self.session_id = session_id
        self.started_at = dt.datetime.now(dt.UTC)
        self.clock = SessionClock(origin if origin is not None else time.time())
        self.paused = False
        self.files: dict[tuple[str, str], RecordedFile] = {}
        self._key = key
        self._writers: dict[tuple[str, str], TrackWriter] = {}
        self._names: dict[str, str] = {}
        self._clock_tracks: dict[Feed, str] = {}  # each feed has its own track on the clock
        self._index_writes: set[asyncio.Task[None]] = set()
        self._index_lock = threading.Lock()  # index writes run in threads, one at a time

    @property
    def number(self) -> int:
        """The part's number (its folder is ``part-<number>``)."""
        return int(self.folder.name.removeprefix("part-"))

    def seconds(self, at: float | None = None) -> float:
        """Server time ``at`` (default: now) on the recording's clock."""
        return (time.time() if at is None else at) - self.clock.origin

    async def begin(self) -> None:
        """Make the folder and write the index (with the clock's origin) before any file."""
        await asyncio.to_thread(self._write_index, self._index())

    def name(self, participant: str, person: str) -> None:
        """Remember how a participant is called, for the index."""
        self._names[participant] = person

    def _writer(self, feed: Feed) -> TrackWriter | None:
        source = feed.source
        if source is None:
            return None
        key = (feed.owner, source)
        writer = self._writers.get(key)
        if writer is None:
            name = f"{feed.owner}-{source}.mkv"
            track = f"{feed.owner}-{source}"
            writer = TrackWriter(
                self.folder / name, [TrackSpec(track, "video" if feed.kind == "video" else "audio")]
            )
            writer.start()
            if self.paused:
                writer.pause()
            self._writers[key] = writer
            self.files[key] = RecordedFile(
                name, feed.owner, self._names.get(feed.owner, ""), source, feed.kind
            )
            # the index names every file as soon as it exists: after a crash it is what tells whose it is
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._write_index, self._index()))
            self._index_writes.add(task)
            task.add_done_callback(self._index_writes.discard)
        return writer

    def tap(self, feed: Feed, packet: av.Packet[Any]) -> None:
        """A frame the room forwards; queued for its file (never blocks)."""
        if self.paused or packet.pts is None:
            return
        writer = self._writer(feed)
        if writer is None:
            return
        track = next(iter(writer.specs))
        clocked = self._clock_tracks.get(feed)
        if clocked is None:
            # a feed of its own on the clock: a participant who rejoined sends a new RTP timeline
            clocked = self._clock_tracks[feed] = f"{track}#{len(self._clock_tracks)}"
            self.clock.add_track(clocked, feed.kind, feed.owner)
            on_sender_report(feed.receiver, self._reporter(feed, clocked))
            if feed.kind == "video" and writer.stats.queued:
                writer.pause()  # the new feed's video starts at its next keyframe
                writer.resume()
        try:
            stamp = self.clock.stamp(clocked, int(packet.pts) % RTP_MODULO, time.time())
        except ValueError:
            return
        writer.write(EncodedFrame(track, bytes(packet), stamp.session_time, bool(packet.is_keyframe)))
        if feed.kind == "video" and writer.wants_keyframe(track):
            feed.request_keyframe()

    def _reporter(self, feed: Feed, clocked: str) -> SenderReportCallback:
        def report(ssrc: int, ntp: int, rtp: int) -> None:
            origin = rtp_origin(feed.receiver)
            if origin is None or (feed.media_ssrc is not None and ssrc != feed.media_ssrc):
                return
            counted = (rtp - origin) % RTP_MODULO  # on the frames' count (see rtp_origin)
            try:
                self.clock.report(SenderReport.from_rtcp(clocked, feed.owner, ntp, counted, time.time()))
            except ValueError:
                log.warning("recording %s: a sender report refused", self.folder, exc_info=True)

        return report

    def pause(self) -> None:
        """Frames are no longer written; each file stays open."""
        self.paused = True
        for writer in self._writers.values():
            writer.pause()

    def resume(self) -> None:
        """Frames are written again, into the same files (video from its next keyframe)."""
        self.paused = False
        for writer in self._writers.values():
            writer.resume()

    async def stop(self) -> str:
        """Close every file (in a worker thread), write the index and the signed manifest; the
        manifest's SHA-256."""
        ended = dt.datetime.now(dt.UTC)  # the recording ends now; closing the files comes after
        writers = list(self._writers.values())
        for feed in self._clock_tracks:
            on_sender_report(feed.receiver, None)

        def close_all() -> None:
            for writer in writers:
                try:
                    writer.close()
                except RuntimeError:
                    log.exception("recording %s: a file failed", self.folder)

        await asyncio.to_thread(close_all)
        if self._index_writes:
            await asyncio.gather(*self._index_writes, return_exceptions=True)
        await asyncio.to_thread(self._write_index, self._index(ended))
        part = Part(self.number, self.started_at, ended)
        names = [f.name for f in self.files.values()]
        written = await asyncio.to_thread(lambda: [n for n in names if (self.folder / n).exists()])
        parts = dict.fromkeys(written, part)
        await write_manifest_async(self.folder, self.session_id, ended, self._key, parts)
        return await asyncio.to_thread(manifest_digest, self.folder)

    def _index(self, ended: dt.datetime | None = None) -> dict[str, Any]:
        return {
            "session": self.session_id,
            "part": self.number,
            "origin": self.clock.origin,
            "started_at": self.started_at.isoformat(),
            "ended_at": ended.isoformat() if ended is not None else None,
            "files": [
                {
                    "name": f.name,
                    "participant": f.participant,
                    "person": f.person,
                    "source": f.source,
                    "kind": f.kind,
                }
                for f in self.files.values()
            ],
        }

    def _write_index(self, index: dict[str, Any]) -> None:
        with self._index_lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.folder / f".{INDEX_NAME}.tmp"
            temporary.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", "utf-8")
            temporary.replace(self.folder / INDEX_NAME)  # a crash never leaves half an index
