"""The outcomes of a check and the kinds of violation (notice 粤工信办函〔2020〕26号, 四 and 五)."""

from __future__ import annotations

import enum

from remote_check.errors import Message
from remote_check.programme.models import ProjectStatus


class Outcome(enum.StrEnum):
    """The panel's conclusion on a project, as confirmed by the city's coordinator."""

    QUALIFIED = "qualified"  # 合格: the voucher is paid
    UNQUALIFIED = "unqualified"  # 不合格: this voucher loses its redemption, nothing else
    VIOLATION = "violation"  # 违规 (骗补): cancelled, both parties barred, the supplier delisted

    @property
    def status(self) -> ProjectStatus:
        """The project's status this outcome gives."""
        return ProjectStatus(self.value)


class ViolationKind(enum.StrEnum):
    """Why a project is a violation (notice 四)."""

    FORGED_RECORDS = "forged_records"  # 伪造合同、发票、付款凭证等
    CONTENT_MISMATCH = "content_mismatch"  # 服务内容与目录类别或合同严重不符
    PRICE_INFLATED = "price_inflated"  # 合同价格明显高于以往合同或市场价格
    OTHER = "other"  # 其他, described


OUTCOME_LABELS: dict[Outcome, Message] = {
    Outcome.QUALIFIED: Message("合格", "Qualified"),
    Outcome.UNQUALIFIED: Message("不合格", "Unqualified"),
    Outcome.VIOLATION: Message("违规", "Violation"),
}

VIOLATION_LABELS: dict[ViolationKind, Message] = {
    ViolationKind.FORGED_RECORDS: Message("伪造合同、发票或记录", "Forged contract, invoices or records"),
    ViolationKind.CONTENT_MISMATCH: Message(
        "交付内容与目录类别或合同严重不符", "Delivered content far from the category or the contract"
    ),
    ViolationKind.PRICE_INFLATED: Message(
        "合同价格明显高于以往合同或市场价格", "Contract price far above past contracts or the market"
    ),
    ViolationKind.OTHER: Message("其他违规情形", "Other violation"),
}
