"""The outbox of notices: what was sent to whom, what failed and why; sending a failed one again."""

from __future__ import annotations

from remote_check.accounts.access import Permission
from scheduler.notify.outbox import PAGE_SIZE, OutboxFilter, list_messages, message_in_scope, resend
from scheduler.notify.schemas import OutboxList, OutboxOut, OutboxQuery
from web.api.registry import Api, Call
from web.keys import CLOCK, JOBS

api = Api("outbox")


@api.get(
    "/api/outbox", summary="Notices of the caller's cities, newest first", permission=Permission.SESSION_WRITE
)
async def outbox(call: Call, query: OutboxQuery) -> OutboxList:
    where = OutboxFilter(query.status.value if query.status else None, query.session_id)
    async with call.read() as session:
        rows, total = await list_messages(session, call.user, where, page=query.page)
    return OutboxList(
        items=[OutboxOut.of(r) for r in rows], total=total, page=query.page, page_size=PAGE_SIZE
    )


@api.post(
    r"/api/outbox/{message_id:\d+}/resend",
    summary="Send a failed notice again now (audited)",
    permission=Permission.SESSION_WRITE,
)
async def resend_notice(call: Call) -> OutboxOut:
    app = call.request.app
    message_id = call.path_int("message_id")
    async with call.transaction() as session:
        await resend(session, call.user, message_id, now=app[CLOCK].now())
    await app[JOBS].resend_now()
    async with call.read() as session:
        return OutboxOut.of(await message_in_scope(session, call.user, message_id))
