"""Reports to the province and the dashboard, as JSON: the filed reports the caller's scope sees
(the files themselves are downloaded from ``/reports/filings/{id}.xlsx|pdf``), and the dashboard
(the province every city, a city its own, alliance staff the cluster projects)."""

from __future__ import annotations

from remote_check.accounts.access import Permission
from remote_check.clock import local
from remote_check.reports.dashboard import dashboard
from remote_check.reports.filing import visible_filings
from remote_check.reports.schemas import DashboardOut, FilingList, dashboard_out, filing_out
from web.api.registry import Api, Call
from web.keys import CLOCK

api = Api("reports")


@api.get(
    "/api/reports/filings",
    summary="The filed reports you see, newest first (current or superseded)",
    permission=Permission.REPORT_READ,
)
async def list_filings(call: Call) -> FilingList:
    async with call.read() as session:
        views = await visible_filings(session, call.user)
    return FilingList(items=[filing_out(v) for v in views])


@api.get(
    "/api/dashboard",
    summary="Each city's progress against its deadline, and suppliers across cities",
    permission=Permission.DASHBOARD_READ,
)
async def get_dashboard(call: Call) -> DashboardOut:
    today = local(call.request.app[CLOCK].now()).date()
    async with call.read() as session:
        board = await dashboard(session, call.user, today=today)
    return dashboard_out(board)
