"""Reading a project's verdict: the file (project, parties, the last ended session, its panel,
opinions, checklist, conclusion, suggestions) and the list of conclusions under way, within the
reader's scope (404 outside it, like :mod:`scheduler.access`). The actions are :mod:`scheduler.verdicts`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User
from remote_check.checklist.models import ChecklistItem, Standard
from remote_check.checklist.service import list_items
from remote_check.experts.models import Expert
from remote_check.outcomes.kinds import Outcome
from remote_check.outcomes.verdict_models import Opinion, Suggestion, Verdict, VerdictState
from remote_check.outcomes.verdict_rules import Given, Tally, tallies
from remote_check.programme.models import Enterprise, Product, ProjectStatus, Supplier, VoucherProject
from scheduler.access import project_in_scope, scoped
from scheduler.models import CheckSession, PanelRole, PanelSeat, SessionStatus

ENDED = (SessionStatus.DONE, SessionStatus.NO_SHOW)
OPEN_STATES = (VerdictState.RETURNED,)  # a verdict in which the panel may still change its mind


@dataclass(frozen=True)
class Seat:
    """An expert of the held session's panel."""

    expert_id: int
    name: str
    lead: bool


@dataclass
class VerdictFile:
    """A project's verdict as a reader in scope sees it."""

    project: VoucherProject
    enterprise: Enterprise
    supplier: Supplier
    product: Product
    check: CheckSession | None  # the project's last ended session (done or no-show)
    panel: list[Seat]
    opinions: list[Opinion]
    items: list[ChecklistItem]
    verdict: Verdict | None
    suggestions: list[Suggestion]
    names: dict[int, str]  # user id -> display name (who proposed, returned, confirmed)

    @property
    def held(self) -> bool:
        return self.check is not None and self.check.status == SessionStatus.DONE

    @property
    def tallies(self) -> list[Tally]:
        givens = [Given(o.expert_id, o.standard, o.passed) for o in self.opinions]
        return tallies([s.expert_id for s in self.panel], givens)

    def opinions_of(self, expert_id: int) -> dict[Standard, Opinion]:
        return {o.standard: o for o in self.opinions if o.expert_id == expert_id}

    def seat_of(self, principal: Principal) -> Seat | None:
        if principal.role != Role.EXPERT or principal.expert_id is None:
            return None
        return next((s for s in self.panel if s.expert_id == principal.expert_id), None)

    @property
    def panel_may_act(self) -> bool:
        """Opinions and a proposal are still possible."""
        open_verdict = self.verdict is None or self.verdict.state in OPEN_STATES
        return self.held and self.project.status == ProjectStatus.CHECKED and open_verdict


async def _last_ended(session: AsyncSession, project_id: int) -> CheckSession | None:
    return await session.scalar(
        select(CheckSession)
        .where(CheckSession.project_id == project_id, CheckSession.status.in_(ENDED))
        .order_by(CheckSession.starts_at.desc(), CheckSession.id.desc())
        .limit(1)
    )


async def load_file(
    session: AsyncSession, principal: Principal, project_id: int, *, lock: bool = False
) -> VerdictFile:
    """The project's verdict file (404 when the project is outside ``principal``'s scope)."""
    project = await project_in_scope(session, principal, project_id, lock=lock)
    enterprise = await session.get(Enterprise, project.enterprise_id)
    supplier = await session.get(Supplier, project.supplier_id)
    product = await session.get(Product, project.product_id)
    assert enterprise is not None  # foreign keys
    assert supplier is not None
    assert product is not None
    check = await _last_ended(session, project.id)
    panel: list[Seat] = []
    opinions: list[Opinion] = []
    verdict: Verdict | None = None
    if check is not None:
        rows = await session.execute(
            select(PanelSeat.expert_id, Expert.name, PanelSeat.role)
            .join(Expert, Expert.id == PanelSeat.expert_id)
            .where(PanelSeat.session_id == check.id)
            .order_by(PanelSeat.role, PanelSeat.id)
        )
        panel = [Seat(e, name, role == PanelRole.LEAD) for e, name, role in rows]
        panel.sort(key=lambda s: not s.lead)
        opinions = list(
            (
                await session.scalars(
                    select(Opinion).where(Opinion.session_id == check.id).order_by(Opinion.id)
                )
            ).all()
        )
        stmt = select(Verdict).where(Verdict.session_id == check.id)
        verdict = await session.scalar(stmt.with_for_update() if lock else stmt)
    suggestions = list(
        (
            await session.scalars(
                select(Suggestion).where(Suggestion.project_id == project.id).order_by(Suggestion.id)
            )
        ).all()
    )
    names: dict[int, str] = {}
    if verdict is not None:
        users = {verdict.proposed_by, verdict.returned_by, verdict.confirmed_by} - {None}
        if users:
            found = await session.execute(select(User.id, User.display_name).where(User.id.in_(users)))
            names = {uid: name for uid, name in found}
    return VerdictFile(
        project,
        enterprise,
        supplier,
        product,
        check,
        panel,
        opinions,
        await list_items(session, project.id),
        verdict,
        suggestions,
        names,
    )


async def suggestions_of(session: AsyncSession, project_id: int) -> list[Suggestion]:
    """The experts' suggestions and problems found on a project, oldest first (the caller has
    checked that the reader sees the project)."""
    rows = await session.scalars(
        select(Suggestion).where(Suggestion.project_id == project_id).order_by(Suggestion.id)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Pending:
    """A project on the verdicts list: where its conclusion stands."""

    project_id: int
    project_code: str
    enterprise: str
    state: VerdictState | None  # None: checked, awaiting the panel's proposal
    outcome: Outcome | None
    at: dt.datetime | None  # proposed, returned or confirmed at


async def verdict_list(session: AsyncSession, principal: Principal, *, limit: int = 200) -> list[Pending]:
    """The projects in ``principal``'s scope with a conclusion under way or made: proposed first
    (the coordinator's to-do), then returned, then checked without a proposal, then confirmed (newest
    first); at most ``limit``."""
    with_verdict = await session.execute(
        scoped(
            select(VoucherProject.id, VoucherProject.code, Enterprise.name, Verdict)
            .join(Verdict, Verdict.project_id == VoucherProject.id)
            .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id),
            principal,
        )
        .order_by(Verdict.id.desc())
        .limit(limit)
    )
    rows = [
        Pending(
            pid,
            code,
            name,
            v.state,
            v.outcome,
            v.confirmed_at or v.returned_at or v.proposed_at,
        )
        for pid, code, name, v in with_verdict
    ]
    open_ids = {r.project_id for r in rows if r.state != VerdictState.CONFIRMED}
    awaiting = await session.execute(
        scoped(
            select(VoucherProject.id, VoucherProject.code, Enterprise.name)
            .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
            .where(VoucherProject.status == ProjectStatus.CHECKED),
            principal,
        )
        .order_by(VoucherProject.id)
        .limit(limit)
    )
    rows += [
        Pending(pid, code, name, None, None, None) for pid, code, name in awaiting if pid not in open_ids
    ]
    order = {VerdictState.PROPOSED: 0, VerdictState.RETURNED: 1, None: 2, VerdictState.CONFIRMED: 3}
    return sorted(rows, key=lambda r: order[r.state])[:limit]
