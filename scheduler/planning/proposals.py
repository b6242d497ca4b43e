"""Plan proposals being made and made, kept in the server's memory.

The planner is pure CPU work: it runs on a worker thread (``asyncio.to_thread``), never on the event
loop, within its time budget. One proposal is made at a time (the machine's cores serve the rooms
too); a second request while one runs is refused (409). A proposal is its maker's alone and lives
until the server stops or newer ones push it out (:data:`KEEP`): it is a proposal, not a record;
applying it books sessions, which are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import itertools
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.errors import Conflict, Message, NotFound
from scheduler.models import CheckSession
from scheduler.planning.apply import apply_plan
from scheduler.planning.planner import Result, plan
from scheduler.planning.service import Source

log = logging.getLogger(__name__)

KEEP = 20


class ProposalState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    APPLIED = "applied"


@dataclass
class Proposal:
    """One run of the planner over a :class:`Source`."""

    id: int
    owner: int  # user id
    source: Source
    seconds: float  # the planner's time budget
    started: float  # time.monotonic()
    state: ProposalState = ProposalState.RUNNING
    result: Result | None = None
    finished: float | None = None
    booked: list[int] = field(default_factory=list)  # session ids, once applied

    def elapsed(self) -> float:
        """Seconds the planner has run (until it finished)."""
        return (self.finished or time.monotonic()) - self.started

    def progress(self) -> float:
        """0 to 1: the share of the time budget used; 1 once finished."""
        if self.state != ProposalState.RUNNING:
            return 1.0
        return min(0.99, self.elapsed() / self.seconds) if self.seconds > 0 else 0.99


class Proposals:
    """The proposals of one server, and the task that runs the planner."""

    def __init__(self) -> None:
        self._items: dict[int, Proposal] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, owner: int, source: Source, seconds: float) -> Proposal:
        """Start planning ``source`` on a worker thread; 409 while another proposal runs."""
        if any(p.state == ProposalState.RUNNING for p in self._items.values()):
            raise Conflict(
                Message("正在生成另一份排期方案，请稍候再试", "Another plan is being made; try again shortly")
            )
        proposal = Proposal(next(self._ids), owner, source, seconds, time.monotonic())
        self._items[proposal.id] = proposal
        for old in sorted(self._items)[:-KEEP]:
            del self._items[old]
        task = asyncio.create_task(self._run(proposal), name=f"plan-{proposal.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return proposal

    async def _run(self, proposal: Proposal) -> None:
        try:
            proposal.result = await asyncio.to_thread(
                plan, proposal.source.instance, seconds=proposal.seconds
            )
            proposal.state = ProposalState.DONE
        except Exception:
            log.exception("the planner failed on proposal %s", proposal.id)
            proposal.state = ProposalState.FAILED
        finally:
            proposal.finished = time.monotonic()

    def get(self, owner: int, proposal_id: int) -> Proposal:
        """The proposal ``proposal_id`` of ``owner``; 404 for another user's, like an absent one."""
        proposal = self._items.get(proposal_id)
        if proposal is None or proposal.owner != owner:
            raise NotFound("排期方案", "Plan")
        return proposal

    async def apply(
        self, session: AsyncSession, principal: Principal, proposal: Proposal, *, now: dt.datetime
    ) -> list[CheckSession]:
        """Book a finished proposal's checks in the caller's transaction (409 unless it is finished
        and not yet applied). Call :meth:`applied` once the transaction has committed."""
        if proposal.state != ProposalState.DONE or proposal.result is None:
            raise Conflict(
                Message(
                    "该排期方案尚未完成或已应用", "This plan is not finished yet, or has been applied already"
                )
            )
        return await apply_plan(session, principal, proposal.source, proposal.result.plan, now=now)

    @staticmethod
    def applied(proposal: Proposal, sessions: list[int]) -> None:
        """Mark ``proposal`` applied (its sessions booked and committed)."""
        proposal.state = ProposalState.APPLIED
        proposal.booked = sessions

    def of(self, owner: int) -> list[Proposal]:
        """``owner``'s proposals, the newest first."""
        return sorted((p for p in self._items.values() if p.owner == owner), key=lambda p: -p.id)

    async def wait(self, proposal: Proposal) -> None:
        """Until ``proposal`` is no longer running (the planner ends within its budget)."""
        for task in list(self._tasks):
            if task.get_name() == f"plan-{proposal.id}":
                await asyncio.shield(task)

    async def close(self) -> None:
        """Wait for the running planner (it stops at its time budget): a thread cannot be cancelled."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
