"""Writing the audit log's signed checkpoints (:mod:`remote_check.audit.checkpoints`) out of the
database: to ``<data>/audit-checkpoints/checkpoints.jsonl``, and to any further sink.

:class:`CheckpointFile` is the local file every verification reads; it appends under an exclusive
``flock``, so that the web process and a command line writing at once never fork the checkpoints'
own chain. A :class:`CheckpointSink` receives each new line too (:class:`FolderSink`: a copy in
another folder, e.g. a mounted share or write-once storage). :class:`Checkpointer` is the web app's
periodic task: a checkpoint when ``every`` has passed on the app's clock and the head has moved,
and one at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.audit.checkpoints import make_line, read_line
from remote_check.audit.models import AuditHead
from remote_check.clock import Clock
from remote_check.database import uncut

log = logging.getLogger(__name__)

FILE_NAME = "checkpoints.jsonl"
TAIL = 64 * 1024


class CheckpointSink(Protocol):
    """Somewhere a copy of each new checkpoint line goes (blocking: called in a worker thread)."""

    def append(self, line: str) -> None:
        """Keep ``line`` (one checkpoint, no newline)."""
        ...


def _append_locked(path: Path, build: Callable[[str | None], str | None]) -> str | None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        line = build(_last_line(handle))
        if line is not None:
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        return line


def _last_line(stream: BinaryIO) -> str | None:
    """The last non-blank line of a file (a checkpoint line is far shorter than :data:`TAIL`)."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - TAIL))
    lines = [raw.strip() for raw in stream.read().splitlines() if raw.strip()]
    return lines[-1].decode("utf-8", "replace") if lines else None


class FolderSink:
    """A copy of the checkpoints in another folder (same file name)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def append(self, line: str) -> None:
        _append_locked(self.path, lambda _last: line)


def copy_sinks(copy_dir: Path | None) -> list[CheckpointSink]:
    """The sinks the settings ask for beside the local file (``audit_checkpoint_copy_dir``)."""
    return [FolderSink(copy_dir)] if copy_dir is not None else []


class CheckpointFile:
    """The local checkpoint file, ``<folder>/checkpoints.jsonl``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def lines(self) -> list[str]:
        """Every checkpoint line, oldest first (none when the file does not exist)."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]

    def add(self, build: Callable[[str | None], str | None]) -> str | None:
        """Append ``build(last line)`` (nothing when it returns ``None``) under the file's lock."""
        return _append_locked(self.path, build)


async def write_checkpoint(
    factory: async_sessionmaker[AsyncSession],
    key: bytes,
    file: CheckpointFile,
    now: dt.datetime,
    *,
    sinks: Sequence[CheckpointSink] = (),
    every: dt.timedelta | None = None,
) -> str | None:
    """Write a checkpoint of the log's head as it is now, unless the last checkpoint already saw
    this head, or (``every`` given) was written less than ``every`` ago. The new line, or ``None``."""
    async with factory() as session:
        head = (await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))).one()
    if head.seq == 0:
        return None

    def build(last: str | None) -> str | None:
        previous = read_line(0, last, key).checkpoint if last is not None else None
        if previous is not None and (previous.entries, previous.head) == (head.seq, head.hash):
            return None
        if previous is not None and every is not None and now - previous.at < every:
            return None
        return make_line(head.seq, head.hash, now, last, key)

    line = await asyncio.to_thread(file.add, build)
    if line is not None:
        for sink in sinks:
            try:
                await asyncio.to_thread(sink.append, line)
            except OSError:
                log.exception("audit checkpoint: a copy could not be written to %s", sink)
    return line


class Checkpointer:
    """The web app's checkpoint task: every ``poll`` seconds (or when poked) it writes a checkpoint
    if ``every`` has passed on ``clock`` since the last one and the head moved; :meth:`close` writes
    a last one, whatever the interval."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        key: bytes,
        folder: Path,
        clock: Clock,
        every: dt.timedelta,
        *,
        sinks: Sequence[CheckpointSink] = (),
        poll: float = 30.0,
    ) -> None:
        self._factory = factory
        self._key = key
        self.file = CheckpointFile(folder)
        self._clock = clock
        self._every = every
        self._sinks = tuple(sinks)
        self._poll = min(poll, every.total_seconds())
        self._wake = asyncio.Event()
        self._started = 0  # passes begun
        self._finished = 0  # the last pass finished
        self._pass_done = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def write(self, *, due_only: bool) -> str | None:
        """One pass: a checkpoint if the head moved (and, ``due_only``, ``every`` has passed)."""
        return await write_checkpoint(
            self._factory,
            self._key,
            self.file,
            self._clock.now(),
            sinks=self._sinks,
            every=self._every if due_only else None,
        )

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()
            self._started += 1
            number = self._started
            try:
                await uncut(self.write(due_only=True))
            except (OSError, SQLAlchemyError):
                log.exception("audit checkpoint failed; retrying at the next pass")
            async with self._pass_done:
                self._finished = number
                self._pass_done.notify_all()

    def start(self) -> None:
        """Start the periodic task."""
        self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def poke(self) -> None:
        """Wake the task and wait until a pass begun after the wake has finished (tests move a
        FixedClock, then poke)."""
        async with self._pass_done:
            target = self._started + 1
            self._wake.set()
            await self._pass_done.wait_for(lambda: self._finished >= target)

    async def close(self) -> None:
        """Stop the task and write a last checkpoint if the head moved since the last one."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.write(due_only=False)
        except (OSError, SQLAlchemyError):
            log.exception("audit checkpoint at shutdown failed")
