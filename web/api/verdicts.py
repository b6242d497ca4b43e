"""A project's verdict: the panel's opinions, the lead's proposal, the coordinator's confirmation or
return, a no-show's conclusion, the experts' suggestions (:mod:`scheduler.verdicts`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from recordings.conclusion import item_moments
from remote_check.accounts.access import Permission
from remote_check.outcomes.verdict_schemas import (
    ItemOut,
    NoShowIn,
    OpinionOut,
    OpinionsIn,
    PanelMemberOut,
    ProjectVerdictOut,
    ProposalIn,
    ReturnIn,
    SuggestionIn,
    SuggestionOut,
    TallyOut,
    VerdictOut,
)
from scheduler import verdicts
from scheduler.verdicts import VerdictFile
from web.api.registry import Api, Call
from web.keys import CLOCK, SETTINGS

api = Api("verdicts")

VERDICT = r"/api/projects/{id:\d+}/verdict"


async def verdict_out(session: AsyncSession, found: VerdictFile) -> ProjectVerdictOut:
    """The file as JSON, each checklist item with its moments on the held session's recording."""
    moments = await item_moments(session, found.check.id if found.check is not None else None)
    verdict = found.verdict
    return ProjectVerdictOut(
        project_id=found.project.id,
        project_code=found.project.code,
        project_status=found.project.status.value,
        session_id=found.check.id if found.check is not None else None,
        panel=[
            PanelMemberOut(
                expert_id=seat.expert_id,
                name=seat.name,
                lead=seat.lead,
                opinions=[
                    OpinionOut(standard=o.standard, passed=o.passed, reasons=o.reasons, given_at=o.given_at)
                    for o in found.opinions_of(seat.expert_id).values()
                ],
            )
            for seat in found.panel
        ],
        tallies=[
            TallyOut(
                standard=t.standard,
                passes=t.passes,
                fails=t.fails,
                missing=t.missing,
                majority_fail=t.majority_fail,
            )
            for t in found.tallies
        ],
        checklist=[
            ItemOut(
                code=i.code,
                standard=i.standard,
                title_zh=i.title_zh,
                result=i.result,
                notes=i.notes,
                moments=moments.get(i.id, []),
            )
            for i in found.items
        ],
        verdict=None
        if verdict is None
        else VerdictOut(
            state=verdict.state,
            outcome=verdict.outcome,
            violation=verdict.violation,
            description=verdict.description,
            reasons=verdict.reasons,
            no_show=verdict.no_show,
            proposed_at=verdict.proposed_at,
            return_note=verdict.return_note,
            confirmed_at=verdict.confirmed_at,
        ),
        suggestions=[
            SuggestionOut(id=s.id, topic=s.topic, text=s.text, author=s.author, created_at=s.created_at)
            for s in found.suggestions
        ],
    )


@api.get(
    VERDICT,
    summary="A project's verdict: panel, opinions, tallies, conclusion",
    permission=Permission.PROJECT_READ,
)
async def get_verdict(call: Call) -> ProjectVerdictOut:
    async with call.read() as session:
        return await verdict_out(session, await verdicts.load_file(session, call.user, call.path_int("id")))


@api.post(
    VERDICT + "/opinions",
    summary="A panel expert's opinions per standard (pass/fail, reasons on a fail)",
    permission=Permission.VERDICT_OPINE,
)
async def give_opinions(call: Call, body: OpinionsIn) -> ProjectVerdictOut:
    async with call.transaction() as session:
        found = await verdicts.give_opinions(
            session,
            call.user,
            call.path_int("id"),
            [(o.standard, o.passed, o.reasons) for o in body.opinions],
            now=call.request.app[CLOCK].now(),
        )
        return await verdict_out(session, found)


@api.post(
    VERDICT + "/proposal",
    summary="The lead expert proposes the panel's conclusion",
    permission=Permission.VERDICT_OPINE,
)
async def propose(call: Call, body: ProposalIn) -> ProjectVerdictOut:
    async with call.transaction() as session:
        found = await verdicts.propose(
            session,
            call.user,
            call.path_int("id"),
            outcome=body.outcome,
            violation=body.violation,
            description=body.description,
            reasons=body.reasons,
            now=call.request.app[CLOCK].now(),
        )
        return await verdict_out(session, found)


@api.post(
    VERDICT + "/confirm",
    summary="The city's coordinator confirms the proposed conclusion (the outcome is applied)",
    permission=Permission.VERDICT_CONFIRM,
)
async def confirm(call: Call) -> ProjectVerdictOut:
    project_id = call.path_int("id")
    async with call.transaction() as session:
        await verdicts.confirm(
            session,
            call.user,
            project_id,
            now=call.request.app[CLOCK].now(),
            wecom_cities=call.request.app[SETTINGS].wecom_webhooks.keys(),
        )
        return await verdict_out(session, await verdicts.load_file(session, call.user, project_id))


@api.post(
    VERDICT + "/return",
    summary="The city's coordinator returns the proposal to the lead with a note",
    permission=Permission.VERDICT_CONFIRM,
)
async def return_to_lead(call: Call, body: ReturnIn) -> ProjectVerdictOut:
    async with call.transaction() as session:
        found = await verdicts.return_to_lead(
            session, call.user, call.path_int("id"), note=body.note, now=call.request.app[CLOCK].now()
        )
        return await verdict_out(session, found)


@api.post(
    r"/api/sessions/{session_id:\d+}/no-show-verdict",
    summary="The coordinator concludes a no-show session: unqualified (按照抽查不通过处理)",
    permission=Permission.VERDICT_CONFIRM,
)
async def no_show_verdict(call: Call, body: NoShowIn) -> ProjectVerdictOut:
    async with call.transaction() as session:
        result = await verdicts.confirm_no_show(
            session, call.user, call.path_int("session_id"), note=body.note, now=call.request.app[CLOCK].now()
        )
        return await verdict_out(session, await verdicts.load_file(session, call.user, result.project_id))


@api.post(
    r"/api/projects/{id:\d+}/suggestions",
    summary="A panel expert's suggestion (project, supplier, policy) or a problem reported to the city",
    permission=Permission.VERDICT_OPINE,
    status=201,
)
async def suggest(call: Call, body: SuggestionIn) -> SuggestionOut:
    async with call.transaction() as session:
        row = await verdicts.suggest(
            session,
            call.user,
            call.path_int("id"),
            topic=body.topic,
            text=body.text,
            now=call.request.app[CLOCK].now(),
        )
        return SuggestionOut(
            id=row.id, topic=row.topic, text=row.text, author=row.author, created_at=row.created_at
        )
