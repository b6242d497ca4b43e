"""The timed jobs in the server: an APScheduler ``AsyncIOScheduler`` (memory job store) whose jobs
are derived from the sessions' rows, never the only record of anything.

At start-up every session's notices (:mod:`.plan`) become date jobs (``reminder:12``,
``replace_existing``, coalesced, with a misfire grace so that a job missed while the server was
down runs when it is back); after every booking change (:meth:`JobRunner.changed`) the jobs of
the sessions concerned are derived again. A sweep (an interval job) looks for due notices in the
rows as well, for bookings made by other processes and for retries. The outbox makes all this
idempotent. On PostgreSQL only the holder of the advisory lock (:mod:`.leader`) runs jobs.

Tests (and the demo) keep the timer paused (``jobs_timer = false``) and call :meth:`run_due` after
moving their clock: the same code runs the same notices, at the test's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from remote_check.clock import Clock
from remote_check.database import is_sqlite
from remote_check.settings import Settings
from scheduler.models import CheckSession, SessionStatus
from scheduler.notify.deliver import Deliverer, facts_of, timing_of
from scheduler.notify.leader import Leadership
from scheduler.notify.models import Kind, OutboxMessage
from scheduler.notify.party import send_party_notices
from scheduler.notify.plan import LIVE, Item, items

log = logging.getLogger(__name__)

SWEEP_ID = "outbox:sweep"
LEAD_ID = "jobs:lead"


class JobRunner:
    """Derives, schedules and runs the notices of check sessions (see the module's text)."""

    def __init__(
        self,
        engine: AsyncEngine,
        factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        secret: bytes,
        *,
        reader: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.factory = factory
        self.reader = reader or factory  # reads only (on SQLite: without the write lock)
        self.settings = settings
        self.clock = clock
        self.secret = secret
        self.grace = dt.timedelta(minutes=settings.jobs_misfire_grace_minutes)
        self.scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace.total_seconds()),
            },
        )
        single = is_sqlite(str(engine.url))
        self.leadership = None if single else Leadership(engine, self._heard)
        self.leading = single
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: aiohttp.ClientSession | None = None
        self._deliverer: Deliverer | None = None
        self._synced = False
        self._closed = False

    @property
    def deliverer(self) -> Deliverer:
        assert self._deliverer is not None, "the runner is not started"
        return self._deliverer

    async def start(self) -> None:
        """Start the scheduler (paused unless ``jobs_timer``), take the lead if free, derive the jobs."""
        self._client = aiohttp.ClientSession()
        self._deliverer = Deliverer(self.factory, self.settings, self.clock, self.secret, self._client)
        self.scheduler.start(paused=not self.settings.jobs_timer)
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.settings.jobs_sweep_seconds,
            id=SWEEP_ID,
            replace_existing=True,
        )
        if self.leadership is not None:
            self.scheduler.add_job(
                self.try_lead,
                "interval",
                seconds=self.settings.jobs_leader_retry_seconds,
                id=LEAD_ID,
                replace_existing=True,
            )
        await self.try_lead()

    async def close(self) -> None:
        """Stop the timer, wait for the work under way, let go of the lead."""
        self._closed = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.settled()
        if self.leadership is not None:
            await self.leadership.release()
        self.leading = self.leadership is None
        if self._client is not None:
            await self._client.close()

    async def try_lead(self) -> bool:
        """Take (or keep) the lead; a process that gets it derives every session's jobs."""
        if self.leadership is None:
            if not self._synced:
                self._synced = True
                await self.sync_all()
            return True
        was = self.leading
        self.leading = await self.leadership.acquire()
        if self.leading and not was:
            log.info("this process runs the timed jobs")
            await self.sync_all()
        elif was and not self.leading:
            self._drop_session_jobs()
        return self.leading

    # -- deriving jobs -------------------------------------------------------------------------

    async def sync_all(self) -> None:
        """Derive the jobs of every session that may still need a notice."""
        now = self.clock.now()
        async with self.reader() as session:
            checks = (await session.scalars(self._candidates(now))).all()
        for check in checks:
            self._schedule(check, now)

    async def sync(self, ids: set[int]) -> None:
        """Derive again the jobs of these sessions."""
        now = self.clock.now()
        async with self.reader() as session:
            checks = {
                c.id: c for c in (await session.scalars(select(CheckSession).where(CheckSession.id.in_(ids))))
            }
        for sid in ids:
            self._remove(sid)
            if sid in checks:
                self._schedule(checks[sid], now)

    def _candidates(self, now: dt.datetime) -> Select[CheckSession]:
        timing = timing_of(self.settings)
        return select(CheckSession).where(
            or_(
                CheckSession.status.in_(LIVE)
                & (CheckSession.starts_at > now - timing.no_show - timing.grace),
                (CheckSession.status == SessionStatus.CANCELLED) & (CheckSession.starts_at > now),
            )
        )

    def _schedule(self, check: CheckSession, now: dt.datetime) -> None:
        for item in items(facts_of(check), timing_of(self.settings)):
            if now >= item.until:
                continue
            self.scheduler.add_job(
                self._run_job,
                "date",
                run_date=max(item.at, now),
                args=[item.kind.value, item.session_id],
                id=item.job_id,
                replace_existing=True,
            )

    def _remove(self, session_id: int) -> None:
        for kind in Kind:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"{kind.value}:{session_id}")

    def _drop_session_jobs(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id not in (SWEEP_ID, LEAD_ID):
                job.remove()

    def planned(self) -> dict[str, dt.datetime]:
        """The session jobs now scheduled: id -> when it runs."""
        return {
            job.id: job.next_run_time
            for job in self.scheduler.get_jobs()
            if job.id not in (SWEEP_ID, LEAD_ID) and job.next_run_time is not None
        }

    # -- booking changes -----------------------------------------------------------------------

    def changed(self, ids: set[int]) -> None:
        """Sessions changed (committed): derive their jobs again here, or tell the process that
        runs the jobs. Called from the database session's commit hook; the work runs as a task."""
        if self._closed:
            return
        if self.leading:
            self._spawn(self.sync(ids))
        elif self.leadership is not None:
            self._spawn(self.leadership.announce(ids))

    def _heard(self, ids: set[int]) -> None:
        if self.leading and not self._closed:
            self._spawn(self.sync(ids))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("deriving the jobs failed", exc_info=task.exception())

    async def settled(self) -> None:
        """Wait until the work started by booking changes is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- running -------------------------------------------------------------------------------

    async def _run_job(self, kind: str, session_id: int) -> None:
        if self.leading:
            await self.deliverer.run(Kind(kind), session_id)

    async def sweep(self) -> int:
        """Run every notice due now that the rows show has not been made yet, then every retry
        that is due; how many rows went out. Only in the process that runs the jobs."""
        if not self.leading:
            return 0
        now = self.clock.now()
        timing = timing_of(self.settings)
        async with self.reader() as session:
            checks = (await session.scalars(self._candidates(now))).all()
            due: list[Item] = [i for c in checks for i in items(facts_of(c), timing) if i.due(now)]
            made: set[tuple[str, int | None, int]] = set()
            if due:
                keys = [(i.kind.value, i.session_id, i.version) for i in due]
                rows = await session.execute(
                    select(OutboxMessage.kind, OutboxMessage.session_id, OutboxMessage.version)
                    .where(
                        tuple_(OutboxMessage.kind, OutboxMessage.session_id, OutboxMessage.version).in_(keys)
                    )
                    .distinct()
                )
                made = {(k, s, v) for k, s, v in rows.all()}
        sent = 0
        for item in due:
            if (item.kind.value, item.session_id, item.version) not in made:
                sent += await self.deliverer.run(item.kind, item.session_id)
        sent += await send_party_notices(self.factory, self.settings, self.deliverer.client, now=now)
        sent += await self.deliverer.run_meetings()
        return sent + await self.deliverer.retry()

    async def resend_now(self) -> int:
        """Send what a coordinator queued again (and any other retry due); in the process that runs
        the jobs (elsewhere its sweep does, within ``jobs_sweep_seconds``)."""
        return await self.deliverer.retry() if self.leading else 0

    async def run_due(self) -> int:
        """Everything due at the clock's present time: the jobs whose time has come, and the sweep."""
        now = self.clock.now()
        sent = 0
        if self.leading:
            for job in self.scheduler.get_jobs():
                if job.id in (SWEEP_ID, LEAD_ID) or job.next_run_time is None or job.next_run_time > now:
                    continue
                kind, session_id = job.args
                job.remove()  # a date job runs once
                sent += await self.deliverer.run(Kind(kind), session_id)
        return sent + await self.sweep()
