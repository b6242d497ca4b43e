"""The sanctions API: the bars register, publishing a city's results, reading a publication,
deciding an objection."""

from __future__ import annotations

from sqlalchemy import select

from remote_check.accounts.access import Permission
from remote_check.outcomes.publication import visible_publication
from remote_check.outcomes.sanction_models import Bar
from remote_check.outcomes.sanction_schemas import (
    BarList,
    BarOut,
    BarsQuery,
    DecisionIn,
    ObjectionOut,
    PublicationOut,
)
from scheduler.notify.deliver import base_url
from scheduler.objection_decisions import decide
from scheduler.objections import publish_results
from web.api.registry import Api, Call
from web.keys import CLOCK, SECRET, SETTINGS

api = Api("sanctions")


@api.get(
    "/api/bars",
    summary="The bars register (barred enterprises and suppliers)",
    permission=Permission.PROJECT_READ,
)
async def bars(call: Call, query: BarsQuery) -> BarList:
    stmt = select(Bar).order_by(Bar.id.desc())
    if query.standing:
        stmt = stmt.where(Bar.lifted_at.is_(None))
    async with call.read() as session:
        return BarList(items=[BarOut.of(b) for b in (await session.scalars(stmt)).all()])


@api.post(
    r"/api/cities/{city:\d{4}}/publications",
    summary="Publish the city's results (公布反馈); its parties are told",
    permission=Permission.RESULTS_PUBLISH,
    status=201,
)
async def publish(call: Call) -> PublicationOut:
    app = call.request.app
    async with call.transaction() as session:
        publication = await publish_results(
            session,
            call.user,
            call.request.match_info["city"],
            now=app[CLOCK].now(),
            secret=app[SECRET],
            base_url=base_url(app[SETTINGS]),
            objection_days=app[SETTINGS].objection_working_days,
        )
        return PublicationOut.of(publication)


@api.get(r"/api/publications/{id:\d+}", summary="A published results list")
async def publication(call: Call) -> PublicationOut:
    async with call.read() as session:
        return PublicationOut.of(await visible_publication(session, call.user, call.path_int("id")))


@api.post(
    r"/api/objections/{id:\d+}/decision",
    summary="Uphold or overturn an objection's outcome, with reasons",
    permission=Permission.RESULTS_PUBLISH,
)
async def decision(call: Call, body: DecisionIn) -> ObjectionOut:
    async with call.transaction() as session:
        objection, _ = await decide(
            session,
            call.user,
            call.path_int("id"),
            uphold=body.uphold,
            reason=body.reason,
            new_outcome=body.new_outcome,
            now=call.request.app[CLOCK].now(),
        )
        return ObjectionOut.of(objection)
