"""Browsing voucher projects and cities, always within the caller's scope."""

from __future__ import annotations

from remote_check.accounts.access import Permission
from remote_check.programme.schemas import CityList, ProjectDetail, ProjectPage, ProjectQuery
from scheduler.projects import get_project, list_cities, list_projects
from web.api.registry import Api, Call
from web.keys import SETTINGS

api = Api("projects")


@api.get(
    "/api/cities",
    summary="The 21 cities, with the number of projects you may see in each",
    permission=Permission.PROJECT_READ,
)
async def cities_list(call: Call) -> CityList:
    async with call.read() as session:
        return await list_cities(session, call.user)


@api.get(
    "/api/projects",
    summary="Voucher projects you may see, filtered and paginated",
    permission=Permission.PROJECT_READ,
)
async def projects_list(call: Call, query: ProjectQuery) -> ProjectPage:
    async with call.read() as session:
        return await list_projects(session, call.user, query)


@api.get(
    r"/api/projects/{id:\d+}",
    summary="One voucher project with its product listing (404 if outside your scope)",
    permission=Permission.PROJECT_READ,
)
async def project_detail(call: Call) -> ProjectDetail:
    sampling = call.request.app[SETTINGS].sampling
    async with call.read() as session:
        return await get_project(
            session,
            call.user,
            call.path_int("id"),
            price_limit=sampling.price_over_listed,
            min_paid=sampling.min_paid_ratio,
        )
