"""Access that follows seats: the loaders and restrictions that need the sessions' panels.

The loaders here (:func:`project_in_scope`, :func:`session_in_scope`; campaigns and draws in
:mod:`remote_check.campaigns.visible`) put the scope in the WHERE clause and answer 404 for
what is absent *or* out of scope alike, so that ids of other cities' things cannot be probed
and no row outside the scope is ever read or locked. 403 stays for "your role may not do this".

An expert's access follows their seats, not the project: a session (and everything under it:
guests, marks, connectivity results, its room) by a seat on *that* session's panel; a project
(its page and checklist) by a seat on the panel of one of its sessions that takes or took place
(:data:`scheduler.models.VOID`: a cancelled or no-show session gives nothing). So the panel of a
cancelled session keeps seeing that session as it was (time, parties, panel; not its guests) but
nothing of the project that comes after it: not the project, its checklist, or the session it is
rebooked as.

These live in the scheduler, not in :mod:`remote_check.programme`, because the core never
imports the sessions (see docs/architecture.md, "Layout"); city-level scoping, which needs no
session, stays in :mod:`remote_check.programme.scoping`.
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal, Scope, ScopeKind, project_scope
from remote_check.accounts.models import Role
from remote_check.errors import NotFound
from remote_check.programme.models import VoucherProject
from scheduler.models import VOID, CheckSession, PanelSeat

Ts = TypeVarTuple("Ts")


def scope_projects(stmt: Select[*Ts], scope: Scope) -> Select[*Ts]:
    """Restrict a statement that selects from ``voucher_projects`` to what ``scope`` may see."""
    if scope.kind == ScopeKind.ALL:
        return stmt
    if scope.kind == ScopeKind.CITY:
        return stmt.where(VoucherProject.city_code == scope.city_code)
    if scope.kind == ScopeKind.CLUSTER:
        return stmt.where(VoucherProject.is_cluster.is_(True))
    if scope.expert_id is None:
        return stmt.where(false())
    on_panel = (
        select(CheckSession.project_id)
        .join(PanelSeat, PanelSeat.session_id == CheckSession.id)
        .where(PanelSeat.expert_id == scope.expert_id, CheckSession.status.not_in(VOID))
    )
    return stmt.where(VoucherProject.id.in_(on_panel))


def seated(expert_id: int | None) -> Select[int]:
    """The ids of the sessions on whose panel ``expert_id`` sits (none for ``None``)."""
    return select(PanelSeat.session_id).where(PanelSeat.expert_id == expert_id)


def scope_sessions(stmt: Select[*Ts], principal: Principal) -> Select[*Ts]:
    """Restrict a statement over ``check_sessions`` joined to ``voucher_projects`` to the sessions
    ``principal`` sees: an expert those of their seats, everyone else those of their projects."""
    scope = project_scope(principal)
    if scope.kind == ScopeKind.PANEL:
        return stmt.where(CheckSession.id.in_(seated(scope.expert_id)))
    return scope_projects(stmt, scope)


def scoped(stmt: Select[*Ts], principal: Principal) -> Select[*Ts]:
    """``stmt`` (over ``voucher_projects``) restricted to what ``principal`` may see."""
    return scope_projects(stmt, project_scope(principal))


async def project_in_scope(
    session: AsyncSession, principal: Principal, project_id: int, *, lock: bool = False
) -> VoucherProject:
    """The project if ``principal`` sees it (locked for update if asked); 404 if absent or out of scope."""
    stmt = scoped(select(VoucherProject).where(VoucherProject.id == project_id), principal)
    project = await session.scalar(stmt.with_for_update(of=VoucherProject) if lock else stmt)
    if project is None:
        raise NotFound("项目", "Project")
    return project


async def session_in_scope(
    session: AsyncSession, principal: Principal, session_id: int, *, lock: bool = False
) -> CheckSession:
    """The check session if ``principal`` sees it (locked if asked); else 404.

    Staff see the sessions of the projects in their scope; an expert only the sessions on whose
    panel they sit (see the module's docstring).
    """
    stmt = scope_sessions(
        select(CheckSession)
        .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
        .where(CheckSession.id == session_id),
        principal,
    )
    found = await session.scalar(stmt.with_for_update(of=CheckSession) if lock else stmt)
    if found is None:
        raise NotFound("核查会议", "Check session")
    return found


async def sits_on_panel(session: AsyncSession, expert_id: int | None, project_id: int) -> bool:
    """Whether the expert sits on the panel of a session of the project that takes or took place
    (not cancelled, not a no-show: see the module's docstring)."""
    if expert_id is None:
        return False
    found = await session.scalar(
        select(PanelSeat.id)
        .join(CheckSession, CheckSession.id == PanelSeat.session_id)
        .where(
            CheckSession.project_id == project_id,
            CheckSession.status.not_in(VOID),
            PanelSeat.expert_id == expert_id,
        )
        .limit(1)
    )
    return found is not None


async def may_mark(session: AsyncSession, principal: Principal, project_id: int) -> bool:
    """Who marks a project's checklist: an expert of its panel, or a province admin."""
    if principal.role == Role.PROVINCE_ADMIN:
        return True
    return principal.role == Role.EXPERT and await sits_on_panel(session, principal.expert_id, project_id)


async def sees_project(session: AsyncSession, principal: Principal, project_id: int) -> bool:
    """Whether ``principal`` sees the project (the panel of a cancelled session sees the session,
    but no longer its project)."""
    found = await session.scalar(
        scoped(select(VoucherProject.id).where(VoucherProject.id == project_id), principal)
    )
    return found is not None


async def on_panel(session: AsyncSession, expert_id: int | None, session_id: int) -> bool:
    """Whether the expert has a seat on *this* session's panel (whatever the session's state)."""
    if expert_id is None:
        return False
    seat = await session.scalar(
        select(PanelSeat.id).where(PanelSeat.session_id == session_id, PanelSeat.expert_id == expert_id)
    )
    return seat is not None
