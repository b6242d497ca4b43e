"""A sampled project's checklist, from the notice's three standards (粤工信办函〔2020〕26号 二).

Pure: project facts and the product's declared modules in, item specifications out.

* ``R1``-``R4`` 实施真实 (real implementation): deployment shown, real use by the enterprise,
  usage logs, benefit.
* ``F1``-``F5`` 财务规范 (sound finances): contract original, price against the listed price
  (the guidance shows the computed ratio), payment in proportion, invoices, bank transfers.
* ``M1``-``Mn`` 功能完整 (complete functions): one item per declared function module (功能模块).

The standards' names are :data:`remote_check.checklist.labels.STANDARD_LABELS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from remote_check.checklist.models import Standard
from remote_check.programme.pricing import above, percent, ratio


@dataclass(frozen=True)
class ProjectFacts:
    """What the checklist needs to know about a project and its product."""

    code: str
    enterprise_name: str
    supplier_name: str
    product_name: str
    contract_amount: Decimal
    listed_price: Decimal
    price_unit: str
    price_period: str
    amount_paid: Decimal
    has_usage_logs: bool
    price_over_listed: Decimal = Decimal("1.5")
    min_paid_ratio: Decimal = Decimal("0.90")


@dataclass(frozen=True)
class ModuleFacts:
    """A declared function module of the product."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class ItemSpec:
    code: str
    standard: Standard
    position: int
    title_zh: str
    title_en: str
    guidance_zh: str
    guidance_en: str
    evidence_zh: str
    evidence_en: str


def ratio_text(numerator: Decimal, denominator: Decimal) -> str:
    """``numerator / denominator`` as :func:`~remote_check.programme.pricing.ratio` rounds it,
    or ``—`` when undefined."""
    shown = ratio(numerator, denominator)
    return "—" if shown is None else str(shown)


def _percent(numerator: Decimal, denominator: Decimal) -> str:
    shown = ratio(numerator, denominator)
    return "—" if shown is None else f"{percent(shown)}%"


def _implementation(p: ProjectFacts) -> list[tuple[str, str, str, str, str, str]]:
    logs_zh = "平台已接收到使用日志" if p.has_usage_logs else "平台未接收到使用日志，请重点核实"
    logs_en = (
        "the platform has received usage logs"
        if p.has_usage_logs
        else "the platform has received no usage logs: check with particular care"
    )
    return [
        (
            "软硬件部署到位并现场展示",
            "Software and hardware deployed and shown",
            f"请企业现场展示“{p.product_name}”的部署情况（云端账号、服务器或终端、网络接入），"
            "核对与合同及产品应用目录一致。",
            f"Ask the enterprise to show how {p.product_name} is deployed (cloud accounts, servers or "
            "devices, network access) and compare with the contract and the product catalogue.",
            "系统登录画面、部署清单、云资源控制台截图",
            "Login screen, deployment list, cloud console screenshots",
        ),
        (
            "企业实际使用",
            "Real use by the enterprise",
            f"应由{p.enterprise_name}的人员操作演示日常业务，供应商仅作补充说明。",
            f"Staff of {p.enterprise_name} operate the system for their daily work; the supplier only adds "
            "explanations.",
            "企业人员现场操作、近期业务数据",
            "Enterprise staff operating live, recent business data",
        ),
        (
            "使用日志",
            "Usage logs",
            f"调阅系统中近三个月的使用记录（登录、操作时间、用户数），{logs_zh}。",
            f"Look at the last three months of use (logins, operation times, number of users); {logs_en}.",
            "系统使用日志、平台日志接口记录",
            "System usage logs, records of the platform's log interface",
        ),
        (
            "实际效益",
            "Benefit to the enterprise",
            "请企业说明上云上平台后带来的经济效益或管理提升，并以数据佐证。",
            "Ask the enterprise to describe the economic benefit or improvement and to show figures.",
            "效益说明、前后对比数据",
            "Statement of benefit, before-and-after figures",
        ),
    ]


def _finance(p: ProjectFacts) -> list[tuple[str, str, str, str, str, str]]:
    ratio = ratio_text(p.contract_amount, p.listed_price)
    listed = f"{p.listed_price} 元/{p.price_unit}/{p.price_period}"
    over_zh = over_en = ""
    if above(p.contract_amount, p.listed_price, p.price_over_listed):
        over_zh = f"，超过 {p.price_over_listed} 倍，请重点核实定价依据（数量、期限）"
        over_en = f", above {p.price_over_listed} times: check the basis of the price (quantity, term)"
    paid = _percent(p.amount_paid, p.contract_amount)
    minimum = _percent(p.min_paid_ratio, Decimal(1))
    return [
        (
            "合同原件",
            "Contract original",
            "核对合同原件的双方名称、签章、金额、服务内容与期限，与登记信息一致。",
            "Check the original contract: parties, seals, amount, services and term match the registration.",
            "合同原件（视频展示骑缝章与签章页）",
            "The original contract (show the seals and signature page on video)",
        ),
        (
            "合同定价合理",
            "Price against the listed price",
            f"合同金额 {p.contract_amount} 元，平台产品定价 {listed}，合同价/定价 = {ratio}{over_zh}。",
            f"Contract {p.contract_amount} yuan, listed price {p.listed_price} yuan per {p.price_unit} per "
            f"{p.price_period}; contract / listed = {ratio}{over_en}.",
            "平台“收费标准”截图、报价单",
            "Screenshot of the platform's listed price, the quotation",
        ),
        (
            "按比例完成支付",
            "Payment in proportion",
            f"已支付 {p.amount_paid} 元，占合同金额 {paid}（要求不低于 {minimum}）。",
            f"Paid {p.amount_paid} yuan, {paid} of the contract (at least {minimum} required).",
            "付款凭证、对账单",
            "Payment vouchers, statements",
        ),
        (
            "发票",
            "Invoices",
            "核对发票抬头、金额、开票日期与合同一致，并可查验真伪。",
            "Check that the invoices' buyer, amounts and dates match the contract and can be verified.",
            "增值税发票及查验结果",
            "VAT invoices and their verification",
        ),
        (
            "转账记录",
            "Bank transfers",
            "核对企业对公账户向服务商的转账记录，金额与发票、合同一致。",
            "Check the transfers from the enterprise's company account to the supplier match invoices "
            "and contract.",
            "银行转账回单、流水",
            "Bank transfer slips, statements",
        ),
    ]


def build_items(project: ProjectFacts, modules: Sequence[ModuleFacts]) -> list[ItemSpec]:
    """The checklist of ``project``: R1-R4, F1-F5, then M1-Mn in the modules' order."""
    items: list[ItemSpec] = []
    groups = (
        ("R", Standard.IMPLEMENTATION, _implementation(project)),
        ("F", Standard.FINANCE, _finance(project)),
    )
    for prefix, standard, rows in groups:
        for number, (title_zh, title_en, guide_zh, guide_en, ev_zh, ev_en) in enumerate(rows, start=1):
            items.append(
                ItemSpec(
                    f"{prefix}{number}",
                    standard,
                    len(items) + 1,
                    title_zh,
                    title_en,
                    guide_zh,
                    guide_en,
                    ev_zh,
                    ev_en,
                )
            )
    for number, module in enumerate(modules, start=1):
        described_zh = f"（申报说明：{module.description}）" if module.description else ""
        described_en = f" (declared as: {module.description})" if module.description else ""
        items.append(
            ItemSpec(
                f"M{number}",
                Standard.FUNCTION,
                len(items) + 1,
                f"功能模块：{module.name}"[:200],
                f"Function module: {module.name}"[:200],
                f"请演示“{module.name}”功能{described_zh}，确认与服务商申报产品时声明的功能一致。",
                f"Demonstrate the module “{module.name}”{described_en} and confirm it works as the supplier "
                "declared.",
                "现场操作演示、功能截图",
                "Live demonstration, screenshots",
            )
        )
    return items
