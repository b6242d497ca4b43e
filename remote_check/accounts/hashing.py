"""argon2 in a small pool of its own, so that a storm of log-ins never slows the rest of the server.

Each argon2 check takes about 0.1 s of CPU and 64 MiB. Run in the event loop's shared thread pool,
200 log-ins at once queued ahead of every other request's thread work (8.7 s for any page). Here they
run on ``workers`` threads of their own, and at most ``workers + queue`` are admitted at once: one
more is refused at once with :class:`PoolFull` (the web answers 429 with ``Retry-After``) instead of
waiting. Admission happens on the event loop, before any database work, so a refusal costs nothing.

A slot is held until its thread has really finished (or its job was cancelled before it started),
never merely until the waiting request gave up, so a cancelled request cannot let more checks run
than there are slots.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from remote_check.accounts.passwords import hash_password, needs_rehash, verify_password
from remote_check.errors import DomainError, Message

T = TypeVar("T")

RETRY_AFTER_SECONDS = 2


class PoolFull(DomainError):
    """Every slot of the password pool is taken: try again in a moment (429, ``Retry-After``)."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                f"登录的人太多，请 {RETRY_AFTER_SECONDS} 秒后再试",
                f"Too many people are signing in; try again in {RETRY_AFTER_SECONDS} s",
            ),
            429,
            "busy",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


@dataclass
class Slot:
    """An admission to the pool, taken before the throttle's database work; give it back if unused."""

    pool: PasswordPool
    used: bool = False

    def release(self) -> None:
        if not self.used:
            self.used = True
            self.pool._release()


class PasswordPool:
    """argon2 verify and hash on ``workers`` threads of their own, ``queue`` more waiting at most."""

    def __init__(self, workers: int, queue: int) -> None:
        self.capacity = workers + queue
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="argon2")
        self._admitted = 0
        self.checks_made = 0  # argon2 verifications actually run (a figure for tests and benches)
        self.refused = 0  # admissions refused because the pool was full

    @property
    def admitted(self) -> int:
        return self._admitted

    def admit(self) -> Slot:
        """Take a slot or raise :class:`PoolFull`. Called on the event loop (no lock needed)."""
        if self._admitted >= self.capacity:
            self.refused += 1
            raise PoolFull
        self._admitted += 1
        return Slot(self)

    def _release(self) -> None:
        self._admitted -= 1

    async def verify(self, slot: Slot, stored_hash: str, password: str) -> bool:
        """Check ``password`` against ``stored_hash`` in the pool, using ``slot`` (given back after)."""
        return await self._run(slot, verify_password, stored_hash, password, counted=True)

    async def hash(self, password: str) -> str:
        """An argon2 hash of ``password``, made in the pool (or :class:`PoolFull`)."""
        return await self._run(self.admit(), hash_password, password, counted=False)

    async def rehash_if_needed(self, stored_hash: str, password: str) -> str | None:
        """A new hash when ``stored_hash``'s parameters are out of date (rare), else ``None``.

        Needs a slot of its own; a full pool just leaves the old hash for the next log-in.
        """
        if not needs_rehash(stored_hash):
            return None
        try:
            return await self.hash(password)
        except PoolFull:
            return None

    async def _run(self, slot: Slot, work: Callable[..., T], *args: str, counted: bool) -> T:
        if slot.used:
            raise RuntimeError("a password-pool slot serves one job")
        slot.used = True
        loop = asyncio.get_running_loop()
        job = self._executor.submit(work, *args)

        def finished(done: concurrent.futures.Future[T]) -> None:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is counting any more
                loop.call_soon_threadsafe(self._finished, done, counted)

        job.add_done_callback(finished)
        return await asyncio.wrap_future(job)

    def _finished(self, job: concurrent.futures.Future[Any], counted: bool) -> None:
        self._release()
        if counted and not job.cancelled():
            self.checks_made += 1

    def close(self) -> None:
        """Drop the jobs not yet started and wait for the running ones (at most one argon2 each)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
