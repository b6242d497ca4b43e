"""Plans of the published samples' checks (issue 11): propose one (the planner runs on a worker
thread), follow its progress, apply it (every check booked in one transaction, or none).

The province administrator plans every city; a city coordinator their own city, around the other
cities' booked checks. A proposal is its maker's: another user's answers 404.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from remote_check.accounts.access import Permission
from scheduler.planning.proposals import Proposal, ProposalState
from scheduler.planning.service import PlanningOptions, build_source
from web.api.registry import Api, Call
from web.keys import CLOCK, PLANS, SETTINGS

api = Api("plans")

PLAN = r"/api/plans/{plan_id:\d+}"


class PlanCreate(BaseModel):
    """How long the planner may take (default: the ``planning.seconds`` setting)."""

    model_config = ConfigDict(extra="forbid")

    seconds: float | None = Field(default=None, gt=0, le=60)


class PlanApply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanStatus(BaseModel):
    """A proposal's progress: ``progress`` is the share of the time budget used (1 once finished)."""

    id: int
    state: ProposalState
    city_code: str | None = Field(description="the city planned; null: the whole province")
    progress: float
    elapsed_seconds: float
    budget_seconds: float
    to_place: int
    placed: int | None = None
    unplaced: int | None = None
    makespan_days: int | None = None
    booked: list[int] = Field(default_factory=list, description="the sessions booked, once applied")


def plan_status(proposal: Proposal) -> PlanStatus:
    """The JSON shape of a proposal's state (the progress page polls it)."""
    result = proposal.result
    fixed = {f.project for f in proposal.source.instance.fixed}
    return PlanStatus(
        id=proposal.id,
        state=proposal.state,
        city_code=proposal.source.city_code,
        progress=round(proposal.progress(), 3),
        elapsed_seconds=round(proposal.elapsed(), 2),
        budget_seconds=proposal.seconds,
        to_place=len(proposal.source.to_place),
        placed=None if result is None else sum(s.project not in fixed for s in result.plan.sessions),
        unplaced=None if result is None else len(result.plan.unscheduled),
        makespan_days=None if result is None else result.makespan,
        booked=proposal.booked,
    )


@api.post(
    "/api/plans",
    summary="Propose a plan of the published samples' checks (the planner runs in the background)",
    permission=Permission.PLAN_WRITE,
    status=202,
)
async def propose_plan(call: Call, body: PlanCreate) -> PlanStatus:
    app = call.request.app
    principal = call.user
    settings = app[SETTINGS].planning
    async with call.read() as session:
        source = await build_source(
            session, principal, now=app[CLOCK].now(), options=PlanningOptions.of(settings)
        )
    return plan_status(app[PLANS].start(principal.user_id, source, body.seconds or settings.seconds))


@api.get(PLAN, summary="A proposal's progress and figures", permission=Permission.PLAN_WRITE)
async def plan_progress(call: Call) -> PlanStatus:
    return plan_status(call.request.app[PLANS].get(call.user.user_id, call.path_int("plan_id")))


@api.post(
    PLAN + "/apply",
    summary="Book every check of a finished proposal in one transaction (409 naming the check that clashed)",
    permission=Permission.PLAN_WRITE,
)
async def apply_proposal(call: Call, body: PlanApply) -> PlanStatus:
    del body
    plans = call.request.app[PLANS]
    proposal = plans.get(call.user.user_id, call.path_int("plan_id"))
    async with call.transaction() as session:
        booked = await plans.apply(session, call.user, proposal, now=call.request.app[CLOCK].now())
        ids = [c.id for c in booked]
    plans.applied(proposal, ids)
    return plan_status(proposal)
