"""The replay renderer of the web process: one render at a time, from the ``replays`` table.

A :class:`ReplayRenderer` lives as long as the app (made in one of its ``cleanup_ctx``). It takes
the :class:`~recordings.models.Replay` rows in state ``QUEUED`` (and, after a restart, the ones
left ``RENDERING``), oldest first, and renders every finished part of the session into
``<session>/replay/replay.mp4`` with the experts' marks as WebVTT chapters beside it. It is woken
by :meth:`ReplayRenderer.wake` (call it after the transaction that queued a replay has committed)
and scans the table once when it starts; it never polls.

A render goes into a fresh folder beside the replay's and replaces it only when it is complete, so a
render that fails or is cancelled leaves the previous replay as it was. Progress is written in short
transactions of its own, at most about once a second or per 2 % step. When the file is ready the
replay folder gets its signed manifest and the audit log ``replay.ready`` with the manifest's
SHA-256; a failure is kept as the row's error (Chinese / English) with ``replay.failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import shutil
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from recordings.chapters import Mark, webvtt
from recordings.integrity import manifest_digest, manifest_key, write_manifest_async
from recordings.models import ItemMark, PartState, Replay, ReplayState
from recordings.paths import (
    CHAPTERS_FILE,
    REPLAY_FILE,
    inside,
    recordings_root,
    replay_folder,
    session_folder_name,
)
from recordings.render import discover, render
from recordings.service import parts_of
from remote_check.audit.service import Actor, record
from remote_check.checklist.models import ChecklistItem
from remote_check.clock import Clock
from remote_check.database import uncut
from remote_check.errors import DomainError, Message
from remote_check.settings import Settings
from scheduler.models import CheckSession

log = logging.getLogger(__name__)

PROGRESS_STEP = 0.02
PROGRESS_SECONDS = 1.0
FINISHED = (PartState.STOPPED, PartState.INTERRUPTED)


class _Superseded(Exception):
    """The replay was queued again (or removed) while it was being rendered."""


class ReplayRenderer:
    """Renders queued replays one at a time, in a task of its own (see the module docstring)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
        self._factory = factory
        self._settings = settings
        self._clock = clock
        self._root = recordings_root(settings)
        self._key = manifest_key(settings.secret_key())
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start rendering: the queue is scanned at once (replays left by a previous run too)."""
        if self._task is None:
            self._idle.clear()
            self._wakeup.set()
            self._task = asyncio.create_task(self._loop(), name="replay-renderer")

    def wake(self) -> None:
        """A replay was queued (call after its transaction committed): look at the queue again."""
        self._idle.clear()
        self._wakeup.set()

    async def idle(self) -> None:
        """Wait until every queued replay is rendered (or failed) and the renderer waits for work."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop: a running render is cancelled (ffmpeg killed, its unfinished files removed); its
        row stays ``RENDERING`` and is rendered again at the next start."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                while (taken := await uncut(self._take())) is not None:
                    await self._render(*taken)
            except Exception:  # the database is gone, say: wait for the next wake-up
                log.exception("replay renderer: the queue could not be read")
            if not self._wakeup.is_set():
                self._idle.set()

    async def _take(self) -> tuple[int, dt.datetime] | None:
        """The oldest queued replay, set ``RENDERING``: its session and when it was queued."""
        async with self._factory() as session, session.begin():
            replay = await session.scalar(
                select(Replay)
                .where(Replay.state.in_((ReplayState.QUEUED, ReplayState.RENDERING)))
                .order_by(Replay.queued_at, Replay.session_id)
                .limit(1)
            )
            if replay is None:
                return None
            replay.state = ReplayState.RENDERING
            replay.progress = 0.0
            replay.error = ""
            return replay.session_id, replay.queued_at

    async def _render(self, session_id: int, queued_at: dt.datetime) -> None:
        work = replay_folder(self._root, session_id).with_name("replay.rendering")
        try:
            folders, marks = await uncut(self._inputs(session_id))
            tracks = [track for folder in folders for track in await discover(folder)]
            duration = max((t.end for t in tracks), default=0.0)
            await asyncio.to_thread(_fresh, work)
            output = work / REPLAY_FILE
            progress = _ProgressWriter(self, session_id, queued_at)
            await render(
                tracks, output, duration=duration, marks=chapters(marks, duration), progress=progress
            )
            if not await asyncio.to_thread((work / CHAPTERS_FILE).exists):
                await asyncio.to_thread((work / CHAPTERS_FILE).write_text, webvtt([]), "utf-8")
            await uncut(self._finish(session_id, queued_at, work, len(folders), duration))
        except _Superseded:
            await asyncio.to_thread(shutil.rmtree, work, True)
        except asyncio.CancelledError:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, work, True))
            raise
        except Exception as exc:  # every failure ends in the row, never in the app
            await asyncio.to_thread(shutil.rmtree, work, True)
            await uncut(self._fail(session_id, queued_at, _message(exc)))

    async def _inputs(self, session_id: int) -> tuple[list[Path], list[tuple[str, str, float, float | None]]]:
        async with self._factory() as session:
            parts = [p for p in await parts_of(session, session_id) if p.state in FINISHED]
            rows = await session.execute(
                select(ChecklistItem.code, ChecklistItem.title_zh, ItemMark.start, ItemMark.end)
                .join(ChecklistItem, ChecklistItem.id == ItemMark.item_id)
                .where(ItemMark.session_id == session_id)
                .order_by(ItemMark.start, ItemMark.id)
            )
            marks = [(code, title, start, end) for code, title, start, end in rows]
        if not parts:
            raise DomainError(
                Message("本次会议没有已完成的录制", "The session has no finished recording"), 409
            )
        return [inside(self._root, p.folder) for p in parts], marks

    async def _current(self, session: AsyncSession, session_id: int, queued_at: dt.datetime) -> Replay:
        replay = await session.get(Replay, session_id, with_for_update=True)
        if replay is None or replay.state != ReplayState.RENDERING or replay.queued_at != queued_at:
            raise _Superseded
        return replay

    async def progress(self, session_id: int, queued_at: dt.datetime, fraction: float) -> None:
        """Keep the render's progress (0..1) in the row, unless it was queued again meanwhile."""
        async with self._factory() as session, session.begin():
            replay = await self._current(session, session_id, queued_at)
            replay.progress = min(max(fraction, 0.0), 1.0)

    async def _finish(
        self, session_id: int, queued_at: dt.datetime, work: Path, parts: int, duration: float
    ) -> None:
        now = self._clock.now()
        async with self._factory() as session:
            await self._current(session, session_id, queued_at)  # not queued again meanwhile
        target = replay_folder(self._root, session_id)
        await asyncio.to_thread(_replace, work, target)
        await write_manifest_async(target, session_folder_name(session_id), now, self._key)
        digest = await asyncio.to_thread(manifest_digest, target)
        async with self._factory() as session, session.begin():
            replay = await self._current(session, session_id, queued_at)
            replay.state = ReplayState.READY
            replay.progress = 1.0
            replay.parts = parts
            replay.duration = duration
            replay.error = ""
            replay.finished_at = now
            await _audit(session, session_id, "replay.ready", now, {"manifest_sha256": digest})

    async def _fail(self, session_id: int, queued_at: dt.datetime, message: Message) -> None:
        now = self._clock.now()
        log.warning("replay of session %s failed: %s", session_id, message.en)
        with contextlib.suppress(_Superseded):
            async with self._factory() as session, session.begin():
                replay = await self._current(session, session_id, queued_at)
                replay.state = ReplayState.FAILED
                replay.error = str(message)
                replay.finished_at = now
                await _audit(session, session_id, "replay.failed", now, {"error": message.en[:500]})


class _ProgressWriter:
    """The render's progress callback: writes at most about once a second or per 2 % step."""

    def __init__(self, renderer: ReplayRenderer, session_id: int, queued_at: dt.datetime) -> None:
        self._renderer = renderer
        self._session_id = session_id
        self._queued_at = queued_at
        self._written = 0.0
        self._at = time.monotonic()

    async def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and fraction - self._written < PROGRESS_STEP and now - self._at < PROGRESS_SECONDS:
            return
        self._written, self._at = fraction, now
        await uncut(self._renderer.progress(self._session_id, self._queued_at, fraction))


def chapters(marks: list[tuple[str, str, float, float | None]], duration: float) -> list[Mark]:
    """The chapters of the replay from ``(code, title, start, end)`` marks: a mark left open ends
    with the replay (or a second after its start, when it starts at the very end); marks that
    cannot be placed (negative, ending before they start) are left out."""
    result = []
    for code, title, start, end in marks:
        if end is None:
            end = duration if duration > start else start + 1.0
        if start >= 0 and end > start:
            result.append(Mark(code, title, start, end))
    return result


def _message(exc: Exception) -> Message:
    if isinstance(exc, DomainError):
        return exc.message
    detail = f"{type(exc).__name__}: {exc}"
    return Message(f"生成回放失败：{detail}", f"Rendering the replay failed: {detail}")


async def _audit(
    session: AsyncSession, session_id: int, action: str, now: dt.datetime, details: dict[str, str]
) -> None:
    check = await session.get(CheckSession, session_id)
    await record(
        session,
        Actor.system(),
        action,
        f"session:{session_id}",
        at=now,
        city_code=check.city_code if check is not None else None,
        details=details,
    )


def _fresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def _replace(work: Path, target: Path) -> None:
    """Put the rendered folder in the replay's place (the old one goes only once the new one is there)."""
    old = target.with_name("replay.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    work.rename(target)
    shutil.rmtree(old, ignore_errors=True)
