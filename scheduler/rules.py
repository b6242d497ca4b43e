"""What a booking concerns, loaded within the caller's scope, and the rules it must pass.

The loaders put the scope in the query (a coordinator sees only their city, alliance staff only
cluster projects, an expert their panels' projects) and answer a project or session outside it
exactly like an unknown one: 404, without reading or locking the other city's row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError, Message, NotFound, invalid
from remote_check.experts.models import Expert
from remote_check.programme.models import City, Enterprise, ProjectStatus, Supplier, VoucherProject
from scheduler.access import scope_sessions, scoped, session_in_scope
from scheduler.booking import MAX_LENGTH, WORKING_HOURS, conflict_reasons, off_hours, panel_problems
from scheduler.clashes import coi_error
from scheduler.life import OVER
from scheduler.models import CheckSession, PanelRole, PanelSeat, SessionStatus

BOOKABLE = (ProjectStatus.SAMPLED, ProjectStatus.SCHEDULED)
RECHECKABLE = (ProjectStatus.QUALIFIED, ProjectStatus.CARRIED_OVER)
"""Outcomes not yet paid that a violation of their supplier puts under re-check: checked again."""


def bookable(project: VoucherProject) -> bool:
    """Whether a check session may be booked for ``project``: it is sampled or scheduled, or it is a
    qualified project not yet paid that its supplier's violation put under re-check (重点核查)."""
    return project.status in BOOKABLE or (project.under_recheck and project.status in RECHECKABLE)


@dataclass(frozen=True)
class Parties:
    """A project with its enterprise and supplier, and its city's rooms, loaded together."""

    project: VoucherProject
    enterprise: Enterprise
    supplier: Supplier
    city_rooms: int  # how many checks the project's city holds at once


async def load_parties(
    session: AsyncSession, principal: Principal, project_id: int, *, lock: bool = False
) -> Parties:
    """The project (locked for update if asked) with its parties, in one statement; 404 if unknown
    or out of scope (the scope is in the query: nothing outside it is read or locked)."""
    stmt = scoped(
        select(VoucherProject, Enterprise, Supplier, City.rooms)
        .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
        .join(Supplier, Supplier.id == VoucherProject.supplier_id)
        .join(City, City.code == VoucherProject.city_code)
        .where(VoucherProject.id == project_id),
        principal,
    )
    row = (await session.execute(stmt.with_for_update(of=VoucherProject) if lock else stmt)).first()
    if row is None:
        raise NotFound("项目", "Project")
    project, enterprise, supplier, rooms = row
    return Parties(project, enterprise, supplier, rooms or 1)


async def _parties_of(session: AsyncSession, project: VoucherProject) -> Parties:
    enterprise = await session.get(Enterprise, project.enterprise_id)
    supplier = await session.get(Supplier, project.supplier_id)
    city = await session.get(City, project.city_code)
    assert enterprise is not None
    assert supplier is not None
    assert city is not None  # foreign keys
    return Parties(project, enterprise, supplier, city.rooms or 1)


async def load_session(
    session: AsyncSession, principal: Principal, session_id: int, *, lock: bool = False
) -> tuple[CheckSession, Parties]:
    """A session and its parties; 404 if unknown or outside the scope.

    The parties come with the session: an expert sees them by their seat on its panel, even when
    the session was cancelled and the project is no longer theirs.
    """
    found = await session_in_scope(session, principal, session_id, lock=lock)
    stmt = select(VoucherProject).where(VoucherProject.id == found.project_id)
    project = await session.scalar(stmt.with_for_update(of=VoucherProject) if lock else stmt)
    assert project is not None
    return found, await _parties_of(session, project)


async def visible_sessions(session: AsyncSession, principal: Principal, ids: Iterable[int]) -> set[int]:
    """Which of the sessions ``ids`` ``principal`` may see."""
    ids = set(ids)
    if not ids:
        return set()
    stmt = scope_sessions(
        select(CheckSession.id)
        .join(VoucherProject, VoucherProject.id == CheckSession.project_id)
        .where(CheckSession.id.in_(ids)),
        principal,
    )
    return set((await session.scalars(stmt)).all())


async def check_host(
    session: AsyncSession, principal: Principal, host_user_id: int | None, city_code: str
) -> int:
    """The id of the session's host: the booker by default, else an active coordinator of the
    project's city (``city_code``) or an active province administrator.

    Any other id, whether it exists or not, is refused with the same 422, so the field cannot be
    used to find out which user ids exist.
    """
    if host_user_id is None or host_user_id == principal.user_id:
        return principal.user_id
    may_host = select(User.id).where(
        User.id == host_user_id,
        User.active.is_(True),
        or_(
            User.role == Role.PROVINCE_ADMIN,
            and_(User.role == Role.CITY_COORDINATOR, User.city_code == city_code),
        ),
    )
    if await session.scalar(may_host) is None:
        raise invalid(
            "主持人须为该项目所在城市在职的地市协调员或省级管理员",
            "The host must be an active coordinator of the project's city or a province administrator",
            field="host_user_id",
        )
    return host_user_id


def check_times(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    """Refuse naive times, an end before the start, more than 4 hours, a start in the past."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise invalid("时间必须带时区", "Times must carry a time zone", field="starts_at")
    if ends_at <= starts_at:
        raise invalid("结束时间必须晚于开始时间", "The end must be after the start", field="ends_at")
    if ends_at - starts_at > MAX_LENGTH:
        raise invalid("核查会议不能超过 4 小时", "A check session lasts at most 4 hours", field="ends_at")
    if starts_at < now:
        raise invalid("开始时间已过去", "The start time is in the past", field="starts_at")


OFF_HOURS = {
    "weekend": Message("在周末", "on a weekend"),
    "holiday": Message("在法定节假日", "on a public holiday"),
    "hours": Message(
        f"在工作时间（{WORKING_HOURS[0]:%H:%M}–{WORKING_HOURS[1]:%H:%M}）之外",
        f"outside working hours ({WORKING_HOURS[0]:%H:%M}–{WORKING_HOURS[1]:%H:%M})",
    ),
}


def check_working_time(starts_at: dt.datetime, ends_at: dt.datetime, *, confirmed: bool) -> None:
    """Refuse (409 ``needs_confirmation``) a session on a weekend, a holiday or outside working hours unless
    the booker confirmed it: a warning to confirm, never a silent accept."""
    reasons = off_hours(starts_at, ends_at, SHANGHAI)
    if not reasons or confirmed:
        return
    zh = "、".join(OFF_HOURS[r].zh for r in reasons)
    en = " and ".join(OFF_HOURS[r].en for r in reasons)
    raise DomainError(
        Message(
            f"该时间{zh}（北京时间），请确认后再预订",
            f"This time is {en} (China time); confirm it to book",
        ),
        409,
        "needs_confirmation",
        [{"field": "confirm_off_hours", "reason": r} for r in reasons],
    )


_EXPERTS = select(Expert).where(Expert.id.in_(bindparam("ids", expanding=True)))  # built once


async def load_panel(session: AsyncSession, expert_ids: Sequence[int], parties: Parties) -> list[Expert]:
    """The panel's experts in the order given; refuse a bad size, unknown, inactive or tied experts."""
    problems = panel_problems(expert_ids)
    if "size" in problems:
        raise invalid(
            "专家组须为 3 或 5 名专家（奇数）", "A panel has 3 or 5 experts (an odd number)", field="panel"
        )
    if "duplicate" in problems:
        raise invalid("同一专家不能重复列入专家组", "An expert is on the panel twice", field="panel")
    rows = (await session.scalars(_EXPERTS, {"ids": list(expert_ids)})).all()
    by_id = {e.id: e for e in rows}
    missing = [str(i) for i in expert_ids if i not in by_id]
    if missing:
        ids = ", ".join(missing)
        raise invalid(f"专家不存在：{ids}", f"Unknown experts: {ids}", field="panel")
    inactive = [by_id[i].name for i in expert_ids if not by_id[i].active]
    if inactive:
        names = "、".join(inactive)
        raise invalid(f"专家已停用：{names}", f"Experts no longer active: {names}", field="panel")
    experts = [by_id[i] for i in expert_ids]
    parties_codes = {parties.supplier.credit_code: "supplier", parties.enterprise.credit_code: "enterprise"}
    tied = [(e, conflict_reasons(e.employer_credit_code, e.ties or [], parties_codes)) for e in experts]
    tied = [(e, reasons) for e, reasons in tied if reasons]
    if tied:
        raise coi_error(tied, parties)
    return experts


def check_parties(parties: Parties, now: dt.datetime) -> None:
    """Refuse a project that may not be checked now, or whose supplier or enterprise is barred or
    delisted (unless the project is under re-check: that check is the sanction's own)."""
    project, supplier, enterprise = parties.project, parties.supplier, parties.enterprise
    if not bookable(project):
        raise DomainError(
            Message(
                "只有“已抽中”或“已排期”的项目可以安排核查会议",
                "Only sampled or scheduled projects can have a check session",
            ),
            409,
            "bad_status",
        )
    if project.under_recheck:
        return  # a re-check (重点核查) is the check a violation orders of its barred supplier's projects
    today = now.astimezone(SHANGHAI).date()
    if not supplier.listed or (supplier.delisted_at is not None and supplier.delisted_at <= now):
        raise DomainError(
            Message(f"服务商“{supplier.name}”已被取消资格", f"Supplier {supplier.name} has been delisted"),
            409,
            "party_barred",
        )
    for party, zh, en in ((supplier, "服务商", "Supplier"), (enterprise, "企业", "Enterprise")):
        if party.barred_until is not None and party.barred_until >= today:
            until = party.barred_until.isoformat()
            raise DomainError(
                Message(f"{zh}“{party.name}”受限至 {until}", f"{en} {party.name} is barred until {until}"),
                409,
                "party_barred",
            )


async def panel_of(session: AsyncSession, session_id: int) -> list[Expert]:
    """The panel's experts, the lead first."""
    rows = (
        await session.execute(
            select(Expert, PanelSeat.role)
            .join(PanelSeat, PanelSeat.expert_id == Expert.id)
            .where(PanelSeat.session_id == session_id)
            .order_by(PanelSeat.role != PanelRole.LEAD, PanelSeat.id)
        )
    ).all()
    return [expert for expert, _ in rows]


def must_be_booked(check: CheckSession) -> None:
    """Refuse (409) moving or cancelling a session that has been held (someone entered its room),
    has ended or been cancelled."""
    if check.status != SessionStatus.BOOKED:
        raise DomainError(
            Message(
                "只有尚未举行的会议可以取消或改期（已开始、已结束或已取消的不可以）",
                "Only a session that has not been held can be cancelled or rescheduled",
            ),
            409,
            "bad_status",
        )


def must_not_be_over(check: CheckSession) -> None:
    """Refuse (409) inviting people to a session that is over (completed, no-show, cancelled)."""
    if check.status in OVER:
        raise DomainError(
            Message("该核查会议已结束或已取消", "This check session is over or cancelled"), 409, "bad_status"
        )
