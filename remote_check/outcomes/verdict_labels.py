"""The names of a verdict's states and of the topics of the experts' suggestions, defined once."""

from __future__ import annotations

from remote_check.errors import Message
from remote_check.outcomes.verdict_models import SuggestionTopic, VerdictState

STATE_LABELS: dict[VerdictState, Message] = {
    VerdictState.PROPOSED: Message(
        "组长已提出，待协调员确认", "Proposed by the lead, awaiting the coordinator"
    ),
    VerdictState.RETURNED: Message("已退回组长", "Returned to the lead"),
    VerdictState.CONFIRMED: Message("已确认", "Confirmed"),
}

TOPIC_LABELS: dict[SuggestionTopic, Message] = {
    SuggestionTopic.PROJECT: Message("项目建设", "The project"),
    SuggestionTopic.SUPPLIER: Message("服务商服务能力", "The supplier's capacity"),
    SuggestionTopic.POLICY: Message("服务券政策", "The voucher policy"),
    SuggestionTopic.PROBLEM: Message("发现的问题（报送地市）", "A problem found (reported to the city)"),
}

PASS_LABELS: dict[bool, Message] = {True: Message("通过", "Pass"), False: Message("不通过", "Fail")}
