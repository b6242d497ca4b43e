"""The signed conclusion form (核查意见表) of a project: what it shows, read once for the HTML page
to print and the PDF (:mod:`recordings.conclusion_pdf`).

It is here, beside the recordings, because each checklist item links to its moments on the held
session's replay (the experts' marks: ``/sessions/<id>/replay?t=<seconds>``); an item without a
mark shows "无".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.models import ItemMark
from recordings.report import RESULT_LABELS, clock_text
from remote_check.accounts.access import Principal
from remote_check.checklist.labels import STANDARD_LABELS
from remote_check.checklist.models import Standard
from remote_check.outcomes.kinds import OUTCOME_LABELS, VIOLATION_LABELS
from remote_check.outcomes.verdict_labels import PASS_LABELS, STATE_LABELS, TOPIC_LABELS
from remote_check.outcomes.verdict_models import VerdictState
from remote_check.programme.cities import BY_CODE
from scheduler.verdict_reads import VerdictFile, load_file

NONE = "无"


@dataclass(frozen=True)
class Moment:
    """A moment of the replay where an item was shown: its ``mm:ss`` and the link that opens it."""

    text: str
    url: str


@dataclass(frozen=True)
class FormItem:
    code: str
    standard: str  # its label
    title: str
    result: str  # its label
    result_value: str
    notes: str
    moments: list[Moment]


@dataclass(frozen=True)
class FormOpinion:
    standard: str
    passed: str  # 通过 / 不通过, or "" when not given
    reasons: str
    at: dt.datetime | None


@dataclass(frozen=True)
class FormExpert:
    name: str
    lead: bool
    opinions: list[FormOpinion]


@dataclass(frozen=True)
class ConclusionForm:
    """Everything the form shows, in Chinese."""

    project_id: int
    project_code: str
    project_name: str
    city: str
    enterprise: str
    supplier: str
    product: str
    contract_amount: str
    voucher_amount: str
    session_id: int | None
    session_starts_at: dt.datetime | None
    session_ended_at: dt.datetime | None
    no_show: bool
    items: list[FormItem]
    experts: list[FormExpert]
    outcome: str  # 合格 / 不合格 / 违规, or "" before a proposal
    outcome_value: str
    violation: str
    description: str
    reasons: str
    state: str
    proposed_by: str
    proposed_at: dt.datetime | None
    confirmed_by: str
    confirmed_at: dt.datetime | None
    return_note: str
    suggestions: list[tuple[str, str, str]] = field(default_factory=list)  # topic, text, author
    final: bool = False  # confirmed
    lead: str = ""  # the panel's lead expert


def replay_url(base_url: str, session_id: int, seconds: float) -> str:
    """The replay page at ``seconds`` (absolute: the PDF is read away from the site)."""
    return f"{base_url}/sessions/{session_id}/replay?t={int(seconds)}"


def _yuan(value: object) -> str:
    return f"{value:,.2f} 元"


def _lead_name(found: VerdictFile) -> str:
    """Who proposed: the lead expert's name (else the proposing user's)."""
    verdict = found.verdict
    if verdict is None or verdict.proposed_by is None:
        return ""
    seat = next((s for s in found.panel if s.expert_id == verdict.lead_expert_id), None)
    return seat.name if seat is not None else found.names.get(verdict.proposed_by, "")


def build(found: VerdictFile, marks: dict[int, list[float]], base_url: str) -> ConclusionForm:
    """The form of ``found`` with the moments ``marks`` (item id -> seconds on the recording)."""
    sid = found.check.id if found.check is not None else None
    items = [
        FormItem(
            code=item.code,
            standard=STANDARD_LABELS[item.standard].zh,
            title=item.title_zh,
            result=RESULT_LABELS[item.result].zh,
            result_value=item.result.value,
            notes=item.notes,
            moments=[Moment(clock_text(s), replay_url(base_url, sid, s)) for s in marks.get(item.id, [])]
            if sid is not None
            else [],
        )
        for item in found.items
    ]
    experts = []
    for seat in found.panel:
        mine = found.opinions_of(seat.expert_id)
        opinions = []
        for standard in Standard:
            given = mine.get(standard)
            opinions.append(
                FormOpinion(
                    STANDARD_LABELS[standard].zh,
                    PASS_LABELS[given.passed].zh if given is not None else "",
                    given.reasons if given is not None else "",
                    given.given_at if given is not None else None,
                )
            )
        experts.append(FormExpert(seat.name, seat.lead, opinions))
    verdict = found.verdict
    project, enterprise = found.project, found.enterprise
    names = found.names
    return ConclusionForm(
        project_id=project.id,
        project_code=project.code,
        project_name=f"{enterprise.name}“{found.product.name}”上云上平台服务券项目",
        city=BY_CODE[project.city_code].name_zh if project.city_code in BY_CODE else project.city_code,
        enterprise=enterprise.name,
        supplier=found.supplier.name,
        product=found.product.name,
        contract_amount=_yuan(project.contract_amount),
        voucher_amount=_yuan(project.voucher_amount),
        session_id=sid,
        session_starts_at=found.check.starts_at if found.check is not None else None,
        session_ended_at=found.check.ended_at if found.check is not None else None,
        no_show=bool(verdict and verdict.no_show),
        items=items,
        experts=experts,
        outcome=OUTCOME_LABELS[verdict.outcome].zh if verdict else "",
        outcome_value=verdict.outcome.value if verdict else "",
        violation=VIOLATION_LABELS[verdict.violation].zh if verdict and verdict.violation else "",
        description=verdict.description if verdict else "",
        reasons=verdict.reasons if verdict else "",
        state=STATE_LABELS[verdict.state].zh if verdict else "尚未提出结论",
        proposed_by=_lead_name(found),
        proposed_at=verdict.proposed_at if verdict else None,
        confirmed_by=names.get(verdict.confirmed_by, "") if verdict and verdict.confirmed_by else "",
        confirmed_at=verdict.confirmed_at if verdict else None,
        return_note=verdict.return_note if verdict and verdict.state == VerdictState.RETURNED else "",
        suggestions=[(TOPIC_LABELS[s.topic].zh, s.text, s.author) for s in found.suggestions],
        final=bool(verdict and verdict.state == VerdictState.CONFIRMED),
        lead=next((seat.name for seat in found.panel if seat.lead), ""),
    )


async def item_moments(session: AsyncSession, session_id: int | None) -> dict[int, list[float]]:
    """Item id -> the start (seconds) of each mark of the session, in time order."""
    if session_id is None:
        return {}
    found: dict[int, list[float]] = {}
    for item_id, start in await session.execute(
        select(ItemMark.item_id, ItemMark.start)
        .where(ItemMark.session_id == session_id)
        .order_by(ItemMark.start, ItemMark.id)
    ):
        found.setdefault(item_id, []).append(start)
    return found


async def load_form(
    session: AsyncSession, principal: Principal, project_id: int, base_url: str
) -> ConclusionForm:
    """The form of a project ``principal`` sees (else ``NotFound``)."""
    found = await load_file(session, principal, project_id)
    sid = found.check.id if found.check is not None else None
    return build(found, await item_moments(session, sid), base_url.rstrip("/"))
