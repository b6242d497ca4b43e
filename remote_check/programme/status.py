"""The life of a voucher project: which status may follow which.

registered -> sampled -> scheduled -> checked -> qualified | unqualified | violation
qualified -> funded | carried_over; carried_over -> funded; unqualified | violation -> cancelled;
an overturned objection: violation -> qualified | unqualified, unqualified -> qualified.
A project that is never sampled may still be funded (it was not drawn for a check).
"""

from __future__ import annotations

from remote_check.errors import DomainError, Message
from remote_check.programme.models import ProjectStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.REGISTERED: frozenset({S.SAMPLED, S.FUNDED, S.CARRIED_OVER, S.CANCELLED}),
    S.SAMPLED: frozenset({S.SCHEDULED, S.REGISTERED, S.UNQUALIFIED}),
    S.SCHEDULED: frozenset({S.CHECKED, S.SAMPLED, S.UNQUALIFIED}),
    S.CHECKED: frozenset({S.QUALIFIED, S.UNQUALIFIED, S.VIOLATION, S.SCHEDULED}),
    S.QUALIFIED: frozenset({S.FUNDED, S.CARRIED_OVER, S.VIOLATION, S.SCHEDULED}),
    # an objection (异议) upheld against the outcome: the coordinator gives the project its new outcome
    S.UNQUALIFIED: frozenset({S.CANCELLED, S.QUALIFIED}),
    S.VIOLATION: frozenset({S.CANCELLED, S.QUALIFIED, S.UNQUALIFIED}),
    S.CARRIED_OVER: frozenset({S.FUNDED, S.VIOLATION, S.SCHEDULED}),
    S.FUNDED: frozenset(),
    S.CANCELLED: frozenset(),
}

LABELS: dict[S, Message] = {
    S.REGISTERED: Message("已登记", "Registered"),
    S.SAMPLED: Message("已抽中", "Sampled"),
    S.SCHEDULED: Message("已排期", "Scheduled"),
    S.CHECKED: Message("已核查", "Checked"),
    S.QUALIFIED: Message("合格", "Qualified"),
    S.UNQUALIFIED: Message("不合格", "Unqualified"),
    S.VIOLATION: Message("违规", "Violation"),
    S.FUNDED: Message("已兑现", "Funded"),
    S.CARRIED_OVER: Message("结转下期", "Carried over"),
    S.CANCELLED: Message("已取消", "Cancelled"),
}


def can_move(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def check_move(current: S, target: S) -> None:
    """Raise a :class:`DomainError` unless ``current -> target`` is a step of the project's life."""
    if not can_move(current, target):
        raise DomainError(
            Message(
                f"项目状态不能从“{LABELS[current].zh}”变为“{LABELS[target].zh}”",
                f"A project cannot go from {LABELS[current].en} to {LABELS[target].en}",
            ),
            409,
            "bad_transition",
        )
