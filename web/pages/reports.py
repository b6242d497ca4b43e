"""Reports to the province (报省汇总备案) and the province's dashboard.

``/reports``: the filed reports the user's scope sees (the province every city's, a city its own),
current or superseded, each downloadable as filed; a coordinator files their city's plan or
results (made now, stored with their SHA-256, audited) and can look at a report before filing it.
``/dashboard``: each city's progress against its deadline, suppliers across cities, as charts with
the numbers beside them.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from remote_check.accounts.access import Permission, Principal, ScopeKind, allowed, require_city
from remote_check.accounts.models import User
from remote_check.audit.service import Actor
from remote_check.campaigns.visible import campaign_in_scope, visible_campaigns
from remote_check.clock import local
from remote_check.errors import DomainError, Message, invalid
from remote_check.files import FileStore, StoredFileDamaged
from remote_check.programme.cities import BY_CODE
from remote_check.reports.content import BUCKET_LABELS, KIND_LABELS, Bucket, ReportKind
from remote_check.reports.dashboard import CityProgress, Dashboard, dashboard, money_total
from remote_check.reports.filing import file_report, filing_in_scope, render, report_store, visible_filings
from remote_check.reports.pdf import report_pdf
from remote_check.reports.xlsx import report_xlsx
from scheduler.deadline import check_cities
from scheduler.planning.service import PlanningOptions
from scheduler.reporting import build_report
from web.charts import Bar, Segment, stacked_bars
from web.context import lang_of
from web.keys import CLOCK, DB, DB_READ, SETTINGS
from web.pages.common import signed_in

routes = web.RouteTableDef()
logger = logging.getLogger(__name__)

TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
COLOURS = {
    Bucket.QUALIFIED: "#2e7d32",
    Bucket.UNQUALIFIED: "#ef6c00",
    Bucket.VIOLATION: "#c62828",
    Bucket.CANCELLED: "#6d4c41",
    "awaiting": "#1565c0",
    "planned": "#90caf9",
    "unplanned": "#d5d9de",
}


def store(app: web.Application) -> FileStore:
    """Where filed reports' bytes live (write-once, by SHA-256)."""
    return report_store(app[SETTINGS].data_dir)


def _kind(value: str) -> ReportKind:
    try:
        return ReportKind(value)
    except ValueError:
        raise invalid(
            "报告类型应为计划或结果", "The report kind must be plan or results", field="kind"
        ) from None


async def _context(request: web.Request, principal: Principal, error: str = "") -> dict[str, Any]:
    lang = lang_of(request)
    async with request.app[DB_READ]() as session:
        filings = await visible_filings(session, principal)
        campaigns = await visible_campaigns(session, principal)
        ids = {f.filing.filed_by for f in filings if f.filing.filed_by is not None}
        users = dict(
            (await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))).all()
        )
    return {
        "filings": filings,
        "campaigns": campaigns,
        "users": users,
        "kinds": {k.value: m.in_lang(lang) for k, m in KIND_LABELS.items()},
        "can_file": allowed(principal, Permission.REPORT_FILE),
        "error": error,
    }


@routes.get("/reports", name="reports")
async def reports_page(request: web.Request) -> web.StreamResponse:
    """The filed reports in view; the forms to file (coordinators)."""
    principal = signed_in(request, Permission.REPORT_READ)
    return aiohttp_jinja2.render_template("reports.html", request, await _context(request, principal))


@routes.post(r"/campaigns/{id:\d+}/report")
async def file(request: web.Request) -> web.StreamResponse:
    """File a campaign's plan or results now: the report is made, stored and recorded (audited)."""
    principal = signed_in(request, Permission.REPORT_FILE)
    form = {k: str(v).strip() for k, v in (await request.post()).items()}
    app = request.app
    now = app[CLOCK].now()
    try:
        async with app[DB_READ]() as session:
            campaign = await campaign_in_scope(session, principal, int(request.match_info["id"]))
            require_city(principal, campaign.city_code)
            kind = _kind(form.get("kind", ""))
            note = form.get("note", "")
            if len(note) > 500:
                raise invalid("备注不能超过500字", "The note is at most 500 characters", field="note")
            report = await build_report(session, campaign, kind, made_at=now)
        rendered = await asyncio.to_thread(render, report)
        async with app[DB]() as session, session.begin():
            await file_report(
                session,
                store(app),
                rendered,
                actor=Actor.of(principal),
                filed_by=principal.user_id,
                now=now,
                note=note,
            )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        context = await _context(request, principal, exc.message.in_lang(lang_of(request)))
        return aiohttp_jinja2.render_template("reports.html", request, context, status=exc.status)
    raise web.HTTPSeeOther("/reports")


def _download(data: bytes, name: str, extension: str) -> web.Response:
    return web.Response(
        body=data,
        headers={
            "Content-Type": TYPES[extension],
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private",
        },
    )


@routes.get(r"/reports/filings/{id:\d+}.{ext:xlsx|pdf}", name="filing_download")
async def filing_download(request: web.Request) -> web.StreamResponse:
    """A filed report's file exactly as filed (its digest checked on the way out)."""
    principal = signed_in(request, Permission.REPORT_READ)
    extension = request.match_info["ext"]
    async with request.app[DB_READ]() as session:
        filing = await filing_in_scope(session, principal, int(request.match_info["id"]))
    digest = filing.xlsx_sha256 if extension == "xlsx" else filing.pdf_sha256
    try:
        data = await asyncio.to_thread(store(request.app).get, digest)
    except (OSError, StoredFileDamaged):
        logger.exception(
            "filed report %s: its %s file (sha256 %s) is missing or damaged", filing.id, extension, digest
        )
        raise DomainError(
            Message(
                "备案文件缺失或已被改动，请联系管理员",
                "The filed file is missing or was altered: tell the administrator",
            ),
            500,
            "filed_file_damaged",
        ) from None
    name = f"filing-{filing.id}-{filing.city_code}-{filing.kind.value}.{extension}"
    return _download(data, name, extension)


@routes.get(r"/campaigns/{id:\d+}/report/{kind:plan|results}.{ext:xlsx|pdf}", name="report_preview")
async def report_preview(request: web.Request) -> web.StreamResponse:
    """A campaign's report as it stands now, not filed (to look at before filing)."""
    principal = signed_in(request, Permission.REPORT_READ)
    extension = request.match_info["ext"]
    async with request.app[DB_READ]() as session:
        campaign = await campaign_in_scope(session, principal, int(request.match_info["id"]))
        require_city(principal, campaign.city_code)
        report = await build_report(
            session, campaign, ReportKind(request.match_info["kind"]), made_at=request.app[CLOCK].now()
        )
    make = report_xlsx if extension == "xlsx" else report_pdf
    data = await asyncio.to_thread(make, report)
    return _download(data, report.file_name(extension), extension)


def _city_label(code: str, lang: str) -> str:
    city = BY_CODE.get(code)
    if city is None:
        return code
    return city.name_en if lang == "en" else city.name_zh + "市"


def _progress_bar(c: CityProgress, lang: str) -> Bar:
    def label(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    outcomes = [
        Segment(b.value, BUCKET_LABELS[b].in_lang(lang), c.outcomes[b], str(COLOURS[b]))
        for b in (Bucket.QUALIFIED, Bucket.UNQUALIFIED, Bucket.VIOLATION, Bucket.CANCELLED)
    ]
    return Bar(
        f"{_city_label(c.city_code, lang)} {c.period}",
        [
            *outcomes,
            Segment(
                "awaiting",
                label("已核查待结论", "Checked, no outcome yet"),
                c.checked - c.concluded,
                COLOURS["awaiting"],
            ),
            Segment(
                "planned",
                label("已排期未核查", "Planned, not checked"),
                c.planned - c.checked,
                COLOURS["planned"],
            ),
            Segment("unplanned", label("未排期", "Not planned"), c.sampled - c.planned, COLOURS["unplanned"]),
        ],
        f"{c.checked}/{c.sampled}",
    )


def _money_bar(c: CityProgress, lang: str) -> Bar | None:
    if c.money is None:
        return None
    m = c.money
    rest = max(m.budget - m.allocated - m.carried_over, Decimal(0))
    en = lang == "en"
    return Bar(
        f"{c.city} {c.period}",
        [
            Segment(
                "allocated", "Allocated" if en else "已下达", float(m.allocated), COLOURS[Bucket.QUALIFIED]
            ),
            Segment(
                "carried",
                "Carried over" if en else "结转下期",
                float(m.carried_over),
                COLOURS[Bucket.UNQUALIFIED],
            ),
            Segment("rest", "Budget left" if en else "预算余额", float(rest), COLOURS["unplanned"]),
        ],
        f"{m.allocated:,.2f} / {m.budget:,.2f}",
    )


def _charts(board: Dashboard, lang: str) -> tuple[Markup, Markup | None]:
    en = lang == "en"
    progress = stacked_bars(
        "progress-chart",
        "Each city's checks" if en else "各市核查进度",
        "For each city's campaign: outcomes, checked without outcome, planned, not planned"
        if en
        else "各市抽查批次：按结果的已出结论项目、已核查待结论、已排期未核查、未排期",
        [_progress_bar(c, lang) for c in board.cities],
    )
    bars = [b for b in (_money_bar(c, lang) for c in board.cities) if b is not None]
    money = (
        stacked_bars(
            "money-chart",
            "Money allocated against the budget" if en else "资金下达与预算",
            "For each city: allocated, carried over and budget left, in yuan"
            if en
            else "各市：已下达、结转下期与预算余额（元）",
            bars,
        )
        if bars
        else None
    )
    return progress, money


@routes.get("/dashboard", name="dashboard")
async def dashboard_page(request: web.Request) -> web.StreamResponse:
    """The province's dashboard (a city's coordinator: their city; alliance staff: cluster projects)."""
    principal = signed_in(request, Permission.DASHBOARD_READ)
    lang = lang_of(request)
    today = local(request.app[CLOCK].now()).date()
    settings = request.app[SETTINGS]
    async with request.app[DB_READ]() as session:
        board = await dashboard(session, principal, today=today)
        # the money deadline against each city's capacity (rooms x checks a day x working days left)
        at_risk = (
            [
                check
                for check in await check_cities(
                    session,
                    sorted({c.city_code for c in board.cities}),
                    now=request.app[CLOCK].now(),
                    options=PlanningOptions.of(settings.planning),
                    settings=settings.funding,
                )
                if check.at_risk
            ]
            if board.scope.kind != ScopeKind.CLUSTER
            else []
        )
    progress, money = _charts(board, lang)
    scope = {
        ScopeKind.ALL: Message("全省", "The province"),
        ScopeKind.CITY: Message("本市", "Your city"),
        ScopeKind.CLUSTER: Message("产业集群项目（各市）", "Cluster projects (every city)"),
    }.get(board.scope.kind, Message("", ""))
    context = {
        "board": board,
        "scope": scope.in_lang(lang),
        "progress_chart": progress,
        "money_chart": money,
        "money_total": money_total(board.cities),
        "buckets": [(b.value, BUCKET_LABELS[b].in_lang(lang)) for b in Bucket],
        "city_label": lambda code: _city_label(code, lang),
        "at_risk": [(check.city_code, check.message().in_lang(lang)) for check in at_risk],
    }
    return aiohttp_jinja2.render_template("dashboard.html", request, context)
