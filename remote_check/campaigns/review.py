"""Reading a draw back: the drawn projects with their names, the CSV export, and the redo.

:func:`redo_draw` runs :func:`~remote_check.campaigns.sampling.draw_sample` again on the draw's
frozen inputs with the recorded seed and compares the result with the stored list, and the
inputs' SHA-256 with the one written to the audit log when the draw was made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check import tabular
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, record
from remote_check.campaigns.models import Draw, DrawEntry
from remote_check.campaigns.sampling import (
    ALGORITHM,
    DrawResult,
    Thresholds,
    candidate_from_json,
    contract_from_json,
    draw_sample,
    inputs_digest,
    reason_label,
)
from remote_check.campaigns.service import draw_target, entries_of, get_draw
from remote_check.errors import Message
from remote_check.programme.models import Enterprise, Product, Supplier, VoucherProject


@dataclass(frozen=True)
class Verification:
    """The outcome of redoing a draw: whether it matches, and every difference found."""

    matches: bool
    inputs_sha256: str
    recorded_sha256: str | None
    problems: list[Message]


def redo(draw: Draw) -> DrawResult:
    """Run the draw again on its frozen inputs with its recorded seed, target and thresholds."""
    candidates = [candidate_from_json(c) for c in draw.inputs["candidates"]]
    contracts = [contract_from_json(c) for c in draw.inputs["contracts"]]
    return draw_sample(
        candidates,
        seed=draw.seed,
        target=draw_target(draw),
        thresholds=Thresholds.from_dict(draw.thresholds),
        contracts=contracts,
    )


async def redo_draw(session: AsyncSession, draw_id: int) -> Verification:
    """Redo the draw from its recorded seed and compare with the stored list and the audit log."""
    draw, _campaign = await get_draw(session, draw_id)
    problems: list[Message] = []
    if draw.inputs.get("algorithm") != ALGORITHM:
        problems.append(Message("抽取算法版本不同", f"Made by algorithm {draw.inputs.get('algorithm')}"))
    digest = inputs_digest(draw.inputs)
    recorded = await session.scalar(
        select(AuditEntry.details).where(
            AuditEntry.action == "draw.create", AuditEntry.target == f"draw:{draw.id}"
        )
    )
    recorded_digest = recorded.get("inputs_sha256") if isinstance(recorded, dict) else None
    if recorded_digest != digest:
        problems.append(
            Message("抽取依据与审计日志记录不符", "The draw's inputs differ from the audit log's record")
        )
    result = redo(draw)
    stored = await entries_of(session, draw.id)
    again = [(e.project_id, e.position, list(e.reasons), e.facts) for e in result.entries]
    kept = [(e.project_id, e.position, list(e.reasons), e.facts) for e in stored]
    if result.population != draw.population:
        problems.append(Message("总体数量不符", f"Population {result.population}, stored {draw.population}"))
    if again != kept:
        problems.append(
            Message(
                f"重新抽取得到 {len(again)} 个项目，与存档名单（{len(kept)} 个）不一致",
                f"The redone draw ({len(again)} projects) differs from the stored list ({len(kept)})",
            )
        )
    return Verification(not problems, digest, recorded_digest, problems)


@dataclass(frozen=True)
class EntryRow:
    """A drawn project with the names a reader needs."""

    entry: DrawEntry
    project: VoucherProject
    enterprise: Enterprise
    supplier: Supplier
    product: Product


async def entry_rows(session: AsyncSession, draw_id: int, *, cluster_only: bool = False) -> list[EntryRow]:
    """The draw's projects in order; ``cluster_only``: its cluster projects (what alliance staff see)."""
    stmt = (
        select(DrawEntry, VoucherProject, Enterprise, Supplier, Product)
        .join(VoucherProject, VoucherProject.id == DrawEntry.project_id)
        .join(Enterprise, Enterprise.id == VoucherProject.enterprise_id)
        .join(Supplier, Supplier.id == VoucherProject.supplier_id)
        .join(Product, Product.id == VoucherProject.product_id)
        .where(DrawEntry.draw_id == draw_id)
        .order_by(DrawEntry.position)
    )
    if cluster_only:
        stmt = stmt.where(VoucherProject.is_cluster.is_(True))
    return [EntryRow(*row) for row in (await session.execute(stmt)).all()]


CSV_HEADER = [
    "序号 No.",
    "项目编号 Project",
    "企业 Enterprise",
    "统一社会信用代码 Credit code",
    "服务商 Supplier",
    "产品 Product",
    "合同金额 Contract (yuan)",
    "产品定价 Listed price",
    "合同价/定价 Contract/listed",
    "同类合同中位数 Peer median",
    "合同价/中位数 Contract/peers",
    "支付比例 Paid ratio",
    "使用日志 Usage logs",
    "重点核查 Re-check",
    "入选原因 Reasons",
    "Reasons (en)",
]


def _csv_line(row: EntryRow) -> list[object]:
    """One drawn project's cells (the writer makes every text formula-safe)."""
    f = row.entry.facts
    return [
        row.entry.position,
        row.project.code,
        row.enterprise.name,
        row.enterprise.credit_code,
        row.supplier.name,
        row.product.name,
        f.get("contract_amount", ""),
        f.get("listed_price", ""),
        f.get("ratio_to_listed") or "",
        f.get("peer_median") or "",
        f.get("ratio_to_peers") or "",
        f.get("paid_ratio") or "",
        "有 yes" if f.get("has_usage_logs") else "无 no",
        "是 yes" if f.get("under_recheck") else "否 no",
        "；".join(reason_label(r, "zh") for r in row.entry.reasons),
        "; ".join(reason_label(r, "en") for r in row.entry.reasons),
    ]


async def export_csv(session: AsyncSession, draw_id: int, *, actor: Actor, now: dt.datetime) -> str:
    """The sample as CSV (UTF-8 with BOM, for spreadsheet programs); an audited sensitive read."""
    draw, campaign = await get_draw(session, draw_id)
    rows = await entry_rows(session, draw.id)
    text = tabular.csv_text([CSV_HEADER, *(_csv_line(row) for row in rows)], bom=True)
    await record(
        session,
        actor,
        "draw.export",
        f"draw:{draw.id}",
        at=now,
        city_code=campaign.city_code,
        details={"rows": len(rows), "status": draw.status.value},
    )
    return text
