"""The panel's verdict (issue 12): opinions, the lead's proposal, the coordinator's confirmation or
return, a no-show concluded as 不合格, suggestions; the rules, then the service on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from remote_check.audit.models import AuditEntry
from remote_check.checklist.models import ItemResult, Standard
from remote_check.database import transaction
from remote_check.errors import DomainError, NotFound
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.verdict_models import Opinion, SuggestionTopic, VerdictState
from remote_check.outcomes.verdict_rules import Given, Tally, proposal_problems, tallies
from remote_check.programme.models import ProjectStatus
from scheduler import verdicts
from scheduler.checklist import update_item
from tests.conftest import Database
from tests.scheduling_factories import local, project_status
from tests.verdict_world import VerdictWorld, verdict_world

NOW = local(9, 10)
ALL_PASS = [(s, True, "") for s in Standard]

# --- the rules ----------------------------------------------------------------------------------


def _rows(fails: dict[Standard, int], panel: int = 3) -> list[Tally]:
    givens = [Given(e, s, e >= fails.get(s, 0)) for e in range(panel) for s in Standard]
    return tallies(list(range(panel)), givens)


def test_a_majority_fail_refuses_qualified_and_says_which_standard() -> None:
    problems = proposal_problems(Outcome.QUALIFIED, None, "", "", _rows({Standard.FINANCE: 2}))
    assert len(problems) == 1
    assert "财务规范" in problems[0].zh
    assert "2/3" in problems[0].zh
    assert "2 of 3" in problems[0].en
    assert proposal_problems(Outcome.QUALIFIED, None, "", "", _rows({Standard.FINANCE: 1})) == []
    assert proposal_problems(Outcome.QUALIFIED, None, "", "", _rows({Standard.FINANCE: 2}, panel=5)) == []
    assert proposal_problems(Outcome.QUALIFIED, None, "", "", _rows({Standard.FINANCE: 3}, panel=5))


def test_unqualified_needs_a_fail_and_reasons_and_a_violation_its_kind() -> None:
    assert proposal_problems(Outcome.UNQUALIFIED, None, "", "理由", _rows({}))  # nobody failed anything
    assert proposal_problems(Outcome.UNQUALIFIED, None, "", " ", _rows({Standard.FUNCTION: 1}))
    assert proposal_problems(Outcome.UNQUALIFIED, None, "", "理由", _rows({Standard.FUNCTION: 1})) == []
    fails = _rows({Standard.FINANCE: 3})
    assert proposal_problems(Outcome.VIOLATION, None, "", "理由", fails)
    assert proposal_problems(Outcome.VIOLATION, ViolationKind.OTHER, "", "理由", fails)
    assert proposal_problems(Outcome.VIOLATION, ViolationKind.OTHER, "虚构使用记录", "理由", fails) == []
    assert proposal_problems(Outcome.UNQUALIFIED, ViolationKind.OTHER, "", "理由", fails)


def test_nothing_is_proposed_before_every_opinion() -> None:
    rows = tallies([1, 2, 3], [Given(1, s, True) for s in Standard])
    assert [t.missing for t in rows] == [2, 2, 2]
    assert "尚有专家" in proposal_problems(Outcome.QUALIFIED, None, "", "", rows)[0].zh


# --- the service, on SQLite and PostgreSQL ------------------------------------------------------


async def _world(db: Database, mark: ItemResult = ItemResult.PASS) -> VerdictWorld:
    async with transaction(db.factory) as session:
        return await verdict_world(session, mark=mark)


async def _opine(db: Database, w: VerdictWorld, n: int, opinions: list[tuple[Standard, bool, str]]) -> None:
    async with transaction(db.factory) as session:
        await verdicts.give_opinions(session, w.experts[n], w.project_id, opinions, now=NOW)


async def _audits(db: Database, action: str) -> int:
    async with transaction(db.factory) as session:
        return int(await session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0)


async def test_the_panel_opines_the_lead_proposes_the_coordinator_confirms(db: Database) -> None:
    w = await _world(db)
    for n in range(3):
        await _opine(db, w, n, ALL_PASS)
    async with transaction(db.factory) as session:
        await verdicts.propose(
            session,
            w.experts[0],
            w.project_id,
            outcome=Outcome.QUALIFIED,
            violation=None,
            description="",
            reasons="三项标准均通过",
            now=NOW,
        )
    assert await project_status(db.factory, w.project_id) == ProjectStatus.CHECKED  # not yet confirmed
    async with transaction(db.factory) as session:
        result = await verdicts.confirm(session, w.coordinator, w.project_id, now=NOW)
    assert result.outcome == Outcome.QUALIFIED
    assert await project_status(db.factory, w.project_id) == ProjectStatus.QUALIFIED
    async with transaction(db.factory) as session:
        found = await verdicts.load_file(session, w.coordinator, w.project_id)
    assert found.verdict is not None
    assert found.verdict.state == VerdictState.CONFIRMED
    assert [await _audits(db, a) for a in ("verdict.opinion", "verdict.propose", "verdict.confirm")] == [
        3,
        1,
        1,
    ]
    assert await _audits(db, "project.outcome") == 1
    with pytest.raises(DomainError) as late:  # the panel's opinions are frozen now
        await _opine(db, w, 1, [(Standard.FINANCE, False, "发票不全")])
    assert late.value.status == 409


async def test_who_may_do_what_and_bad_input_changes_nothing(db: Database) -> None:
    w = await _world(db)
    with pytest.raises(DomainError) as no_reason:
        await _opine(db, w, 1, [(Standard.FINANCE, False, "  ")])
    assert no_reason.value.status == 422
    assert "理由" in no_reason.value.message.zh
    with pytest.raises(DomainError) as coordinator:
        async with transaction(db.factory) as session:
            await verdicts.give_opinions(session, w.coordinator, w.project_id, ALL_PASS, now=NOW)
    assert coordinator.value.status == 403
    await _opine(db, w, 1, ALL_PASS)
    with pytest.raises(DomainError) as early:
        async with transaction(db.factory) as session:
            await verdicts.propose(
                session,
                w.experts[0],
                w.project_id,
                outcome=Outcome.QUALIFIED,
                violation=None,
                description="",
                reasons="",
                now=NOW,
            )
    assert early.value.status == 409
    await _opine(db, w, 0, ALL_PASS)
    await _opine(db, w, 2, ALL_PASS)
    with pytest.raises(DomainError) as member:
        async with transaction(db.factory) as session:
            await verdicts.propose(
                session,
                w.experts[1],
                w.project_id,
                outcome=Outcome.QUALIFIED,
                violation=None,
                description="",
                reasons="",
                now=NOW,
            )
    assert member.value.status == 403
    with pytest.raises(NotFound):  # another city's coordinator: as if the project did not exist
        async with transaction(db.factory) as session:
            await verdicts.confirm(session, w.other_coordinator, w.project_id, now=NOW)
    with pytest.raises(DomainError) as nothing:
        async with transaction(db.factory) as session:
            await verdicts.confirm(session, w.coordinator, w.project_id, now=NOW)
    assert nothing.value.status == 409
    async with transaction(db.factory) as session:
        count = await session.scalar(select(func.count(Opinion.id)))
    assert count == 9
    assert await project_status(db.factory, w.project_id) == ProjectStatus.CHECKED


async def test_opinions_wait_for_the_checklist(db: Database) -> None:
    w = await _world(db, mark=ItemResult.PENDING)
    with pytest.raises(DomainError) as pending:
        await _opine(db, w, 0, ALL_PASS)
    assert pending.value.status == 409
    assert "A1" in pending.value.message.zh


async def test_a_majority_fail_a_return_and_an_unqualified_conclusion(db: Database) -> None:
    w = await _world(db)
    finance_fails = [
        (Standard.IMPLEMENTATION, True, ""),
        (Standard.FINANCE, False, "发票与合同金额不符"),
        (Standard.FUNCTION, True, ""),
    ]
    await _opine(db, w, 0, finance_fails)
    await _opine(db, w, 1, finance_fails)
    await _opine(db, w, 2, ALL_PASS)
    with pytest.raises(DomainError) as refused:
        async with transaction(db.factory) as session:
            await verdicts.propose(
                session,
                w.experts[0],
                w.project_id,
                outcome=Outcome.QUALIFIED,
                violation=None,
                description="",
                reasons="",
                now=NOW,
            )
    assert refused.value.status == 422
    assert "财务规范" in refused.value.message.zh
    async with transaction(db.factory) as session:
        await verdicts.propose(
            session,
            w.experts[0],
            w.project_id,
            outcome=Outcome.VIOLATION,
            violation=ViolationKind.FORGED_RECORDS,
            description="",
            reasons="发票伪造",
            now=NOW,
        )
    async with transaction(db.factory) as session:
        await verdicts.return_to_lead(
            session, w.coordinator, w.project_id, note="证据不足以认定骗补", now=NOW
        )
    async with transaction(db.factory) as session:
        found = await verdicts.load_file(session, w.experts[0], w.project_id)
        assert found.verdict is not None
        assert found.verdict.state == VerdictState.RETURNED
        assert found.verdict.return_note == "证据不足以认定骗补"
    async with transaction(db.factory) as session:
        await verdicts.propose(
            session,
            w.experts[0],
            w.project_id,
            outcome=Outcome.UNQUALIFIED,
            violation=None,
            description="",
            reasons="未按比例完成支付",
            now=NOW,
        )
    async with transaction(db.factory) as session:
        await verdicts.confirm(session, w.coordinator, w.project_id, now=NOW)
    assert await project_status(db.factory, w.project_id) == ProjectStatus.UNQUALIFIED
    assert await _audits(db, "verdict.return") == 1


async def test_a_no_show_is_unqualified_by_the_coordinator_alone(db: Database) -> None:
    w = await _world(db)
    with pytest.raises(NotFound):
        async with transaction(db.factory) as session:
            await verdicts.confirm_no_show(
                session, w.other_coordinator, w.no_show_session_id, note="", now=NOW
            )
    with pytest.raises(DomainError) as not_no_show:
        async with transaction(db.factory) as session:
            await verdicts.confirm_no_show(session, w.coordinator, w.session_id, note="", now=NOW)
    assert not_no_show.value.status == 409
    async with transaction(db.factory) as session:
        result = await verdicts.confirm_no_show(
            session, w.coordinator, w.no_show_session_id, note="企业未到场", now=NOW
        )
    assert result.outcome == Outcome.UNQUALIFIED
    assert await project_status(db.factory, w.no_show_project_id) == ProjectStatus.UNQUALIFIED
    async with transaction(db.factory) as session:
        found = await verdicts.load_file(session, w.coordinator, w.no_show_project_id)
    assert found.verdict is not None
    assert found.verdict.no_show
    assert "按照抽查不通过处理" in found.verdict.reasons
    with pytest.raises(DomainError) as twice:
        async with transaction(db.factory) as session:
            await verdicts.confirm_no_show(session, w.coordinator, w.no_show_session_id, note="", now=NOW)
    assert twice.value.status == 409


async def test_experts_suggest_and_report_problems_to_the_city(db: Database) -> None:
    w = await _world(db)
    async with transaction(db.factory) as session:
        await verdicts.suggest(
            session,
            w.experts[1],
            w.project_id,
            topic=SuggestionTopic.PROBLEM,
            text="服务商演示人员不足",
            now=NOW,
        )
    with pytest.raises(DomainError) as coordinator:
        async with transaction(db.factory) as session:
            await verdicts.suggest(
                session, w.coordinator, w.project_id, topic=SuggestionTopic.POLICY, text="x", now=NOW
            )
    assert coordinator.value.status == 403
    async with transaction(db.factory) as session:
        found = await verdicts.load_file(session, w.coordinator, w.project_id)
    assert [(s.topic, s.text, s.author) for s in found.suggestions] == [
        (SuggestionTopic.PROBLEM, "服务商演示人员不足", "王专家")
    ]
    assert await _audits(db, "verdict.suggest") == 1


async def test_a_proposal_freezes_the_checklist_until_it_is_returned(db: Database) -> None:
    w = await _world(db)
    for n in range(3):
        await _opine(db, w, n, ALL_PASS)
    async with transaction(db.factory) as session:
        await verdicts.propose(
            session,
            w.experts[0],
            w.project_id,
            outcome=Outcome.QUALIFIED,
            violation=None,
            description="",
            reasons="",
            now=NOW,
        )
    with pytest.raises(DomainError) as frozen:
        async with transaction(db.factory) as session:
            await update_item(
                session,
                w.project_id,
                "B1",
                result=ItemResult.FAIL,
                notes="发票缺失",
                principal=w.experts[1],
                now=NOW,
            )
    assert frozen.value.status == 409
    async with transaction(db.factory) as session:
        await verdicts.return_to_lead(session, w.coordinator, w.project_id, note="请复核财务材料", now=NOW)
    async with transaction(db.factory) as session:
        item = await update_item(
            session,
            w.project_id,
            "B1",
            result=ItemResult.FAIL,
            notes="发票缺失",
            principal=w.experts[1],
            now=NOW,
        )
    assert item.result == ItemResult.FAIL
