"""A city's reports to the province: the plan and the results, as XLSX read back and PDF text."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor
from remote_check.campaigns.models import Campaign
from remote_check.clock import FixedClock
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.files import FileStore
from remote_check.reports import columns as C
from remote_check.reports.content import Report, ReportKind
from remote_check.reports.filing import file_report, render
from remote_check.reports.models import Filing, FilingImmutable
from scheduler.reporting import build_report
from tests.conftest import Database
from tests.report_world import World, build_world
from tests.scheduling_factories import add_campaign


async def _world(db: Database) -> World:
    async with transaction(db.factory) as session:
        return await build_world(session)


async def _report(db: Database, campaign_id: int, kind: ReportKind, clock: FixedClock) -> Report:
    async with db.factory() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        return await build_report(session, campaign, kind, made_at=clock.now())


def _sheet(data: bytes, name: str) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data))
    return [list(r) for r in book[name].iter_rows(values_only=True)]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def test_the_plan_lists_the_sample_with_its_seed_and_reasons_and_the_schedule(
    db: Database, clock: FixedClock
) -> None:
    world = await _world(db)
    rendered = render(await _report(db, world.campaign_id, ReportKind.PLAN, clock))

    sample = _sheet(rendered.xlsx, C.SAMPLE.zh)
    assert sample[0] == [c.zh for c in C.SAMPLE.columns]  # the province's column order
    assert [r[1] for r in sample[1:-1]] == [p.code for p in world.projects]
    assert sample[-1][0] == "合计"
    assert sample[-1][1] == 5
    voucher = [c.key for c in C.SAMPLE.columns].index("voucher_amount")
    assert Decimal(str(sample[-1][voucher])) == sum(p.voucher_amount for p in world.projects)
    keys = [c.key for c in C.SAMPLE.columns]
    violation = dict(zip(keys, sample[4], strict=True))
    assert violation["reasons"] == "合同价大幅超出产品定价；随机抽取"
    assert (violation["ratio_to_listed"], violation["paid_ratio"]) == ("2.50", "1.00")
    cover = dict((r[0], r[1]) for r in _sheet(rendered.xlsx, "说明"))
    assert cover["随机种子"] == "seed"
    assert "合同价/定价 > 1.5" in str(cover["必抽阈值"])
    schedule = _sheet(rendered.xlsx, C.SCHEDULE.zh)
    assert schedule[1][1] == world.projects[4].code
    assert str(schedule[1][3]) == "2020-04-20 10:00:00"  # Guangdong time
    assert schedule[1][-1] == "张组长（组长）、李专家"

    pdf = _pdf_text(rendered.pdf)
    assert "广州市2019年度服务券抽查计划" in pdf
    assert "随机种子：seed" in pdf
    assert world.projects[0].code in pdf
    assert "合同价大幅超出产品定价" in pdf
    assert "张组长（组长）" in pdf


async def test_the_results_count_by_outcome_supplier_and_area_with_sanctions_and_money(
    db: Database, clock: FixedClock
) -> None:
    world = await _world(db)
    rendered = render(await _report(db, world.campaign_id, ReportKind.RESULTS, clock))

    outcomes = {r[0]: r[1] for r in _sheet(rendered.xlsx, C.BY_OUTCOME.zh)[1:]}
    assert outcomes == {"合格": 2, "不合格": 1, "违规": 1, "已取消兑现": 0, "未出结论": 1, "合计": 5}
    suppliers = _sheet(rendered.xlsx, C.BY_SUPPLIER.zh)
    keys = [c.key for c in C.BY_SUPPLIER.columns]
    by_name = {r[0]: dict(zip(keys, r, strict=True)) for r in suppliers[1:]}
    assert by_name[world.good_supplier]["sampled"] == 4
    assert by_name[world.bad_supplier]["violation"] == 1
    assert by_name["合计"]["sampled"] == 5
    areas = _sheet(rendered.xlsx, C.BY_AREA.zh)
    assert [r[0] for r in areas[1:]] == ["生产管控", "合计"]
    sanctions = _sheet(rendered.xlsx, C.SANCTIONS.zh)
    named = {r[1]: r for r in sanctions[1:]}
    assert named[world.barred_enterprise][0] == "工业企业"
    assert named[world.barred_enterprise][4] == "2025-04-09"
    assert "取消上云上平台资格" in str(named[world.bad_supplier][3])
    assert named[world.projects[4].code][3] == "重点核查"
    money = {r[0]: r for r in _sheet(rendered.xlsx, C.MONEY.zh)[1:]}
    assert money["已下达资金"][1] == 1
    assert Decimal(str(money["已下达资金"][2])) == world.projects[0].voucher_amount
    assert money["结转下期优先拨付"][1] == 1
    assert Decimal(str(money["结转下期优先拨付"][2])) == world.projects[1].voucher_amount  # in yuan

    pdf = _pdf_text(rendered.pdf)
    for words in (
        "抽查结果明细",
        "按服务商",
        "按业务领域",
        "处理情况",
        "资金下达",
        world.bad_supplier,
        "合计",
    ):
        assert words in pdf


async def test_a_campaign_without_a_published_sample_has_nothing_to_report(
    db: Database, clock: FixedClock
) -> None:
    async with transaction(db.factory) as session:
        campaign = await add_campaign(session, [], deadline=clock.now().date(), city="4402")
        await session.execute(text("UPDATE draws SET status = 'draft'"))
        campaign_id = campaign.id
    with pytest.raises(DomainError) as refused:
        await _report(db, campaign_id, ReportKind.RESULTS, clock)
    assert refused.value.status == 409


async def test_a_filing_is_stored_audited_immutable_and_superseded_by_the_next(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    world = await _world(db)
    store = FileStore(tmp_path / "files")
    rendered = render(await _report(db, world.campaign_id, ReportKind.RESULTS, clock))
    async with transaction(db.factory) as session:
        first = await file_report(session, store, rendered, actor=Actor.cli(), filed_by=None, now=clock.now())
        first_id = first.id
    assert store.get(first.xlsx_sha256) == rendered.xlsx
    assert store.get(first.pdf_sha256) == rendered.pdf
    assert not store.path(first.pdf_sha256).stat().st_mode & 0o222  # read-only on disk

    # nothing changes a filing: not the ORM, not SQL
    async with db.factory() as session:
        filing = await session.get(Filing, first_id)
        assert filing is not None
        filing.note = "改过"
        with pytest.raises(FilingImmutable):
            await session.flush()
        await session.rollback()
    for statement in ("UPDATE report_filings SET note = 'x'", "DELETE FROM report_filings"):
        with pytest.raises(Exception, match="immutable"):
            async with transaction(db.factory) as session:
                await session.execute(text(statement))

    async with transaction(db.factory) as session:
        second = await file_report(
            session, store, rendered, actor=Actor.cli(), filed_by=None, now=clock.now()
        )
        plan = render(
            await build_report(
                session,
                await session.get_one(Campaign, world.campaign_id),
                ReportKind.PLAN,
                made_at=clock.now(),
            )
        )
        third = await file_report(session, store, plan, actor=Actor.cli(), filed_by=None, now=clock.now())
    assert second.supersedes_id == first_id
    assert third.supersedes_id is None  # another kind: not superseded
    async with db.factory() as session:
        kept = (await session.scalars(select(Filing).order_by(Filing.id))).all()
        audited = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "report.file"))).all()
    assert [f.id for f in kept] == [first_id, second.id, third.id]
    assert [a.details["supersedes"] for a in audited] == [None, first_id, None]
    assert audited[0].details["pdf_sha256"] == first.pdf_sha256


async def test_two_filings_at_once_are_ordered_and_only_one_is_current(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    world = await _world(db)
    store = FileStore(tmp_path / "files")
    rendered = render(await _report(db, world.campaign_id, ReportKind.PLAN, clock))

    async def file_once() -> int:
        async with transaction(db.factory) as session:
            filing = await file_report(
                session, store, rendered, actor=Actor.cli(), filed_by=None, now=clock.now()
            )
            return filing.id

    ids = await asyncio.gather(file_once(), file_once(), file_once())
    async with db.factory() as session:
        kept = (await session.scalars(select(Filing).order_by(Filing.id))).all()
    assert sorted(ids) == [f.id for f in kept]
    assert [f.supersedes_id for f in kept] == [None, kept[0].id, kept[1].id]  # a chain, one current
