"""The rules of a panel's verdict: pure functions, data in, refusals (messages) out.

- Every expert of the panel gives an opinion on each of the three standards; a fail needs reasons.
- The lead proposes only once every expert gave all three opinions.
- 合格 (qualified) is refused when a majority of the panel failed a standard (more than half of
  the experts: 2 of 3, 3 of 5); a minority's fail is shown on the form but does not stop it.
- 不合格 or 违规 is refused when no expert failed any standard (the panel would contradict itself).
- 不合格 and 违规 need reasons; 违规 needs its kind, and a description for "other"; only 违规 has a kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from remote_check.checklist.labels import STANDARD_LABELS
from remote_check.checklist.models import Standard
from remote_check.errors import Message
from remote_check.outcomes.kinds import Outcome, ViolationKind


@dataclass(frozen=True)
class Given:
    """One opinion as the rules see it."""

    expert_id: int
    standard: Standard
    passed: bool


@dataclass(frozen=True)
class Tally:
    """The panel's opinions on one standard."""

    standard: Standard
    passes: int
    fails: int
    missing: int

    @property
    def majority_fail(self) -> bool:
        """More than half of the panel failed the standard."""
        return self.fails * 2 > self.passes + self.fails + self.missing


def tallies(panel: Sequence[int], opinions: Iterable[Given]) -> list[Tally]:
    """Per standard (the notice's order): how many of ``panel`` passed, failed, gave nothing."""
    members = set(panel)
    seen = {(o.expert_id, o.standard): o.passed for o in opinions if o.expert_id in members}
    rows = []
    for standard in Standard:
        given = [seen[(e, standard)] for e in members if (e, standard) in seen]
        passes = sum(1 for p in given if p)
        rows.append(Tally(standard, passes, len(given) - passes, len(members) - len(given)))
    return rows


def missing(panel: Sequence[int], opinions: Iterable[Given]) -> list[tuple[int, Standard]]:
    """``(expert, standard)`` pairs of the panel without an opinion, in panel order."""
    seen = {(o.expert_id, o.standard) for o in opinions}
    return [(e, s) for e in panel for s in Standard if (e, s) not in seen]


def opinion_problem(passed: bool, reasons: str) -> Message | None:
    """Why one opinion is refused (a fail without reasons), or ``None``."""
    if not passed and not reasons.strip():
        return Message("认定“不通过”须写明理由", "A fail needs reasons")
    return None


def proposal_problems(
    outcome: Outcome,
    violation: ViolationKind | None,
    description: str,
    reasons: str,
    rows: Sequence[Tally],
) -> list[Message]:
    """Why the lead's proposal is refused (empty: it may be proposed)."""
    problems: list[Message] = []
    if any(t.missing for t in rows):
        problems.append(
            Message(
                "尚有专家未对全部三项标准给出意见，组长暂不能提出结论",
                "Not every expert has given an opinion on all three standards yet",
            )
        )
        return problems
    if outcome == Outcome.QUALIFIED:
        for t in rows:
            if t.majority_fail:
                label = STANDARD_LABELS[t.standard]
                total = t.passes + t.fails
                problems.append(
                    Message(
                        f"“{label.zh}”有 {t.fails}/{total} 名专家认为不通过（多数），不能认定为合格",
                        f"{t.fails} of {total} experts failed “{label.en}” (a majority): "
                        "the project cannot be qualified",
                    )
                )
    elif not any(t.fails for t in rows):
        problems.append(
            Message(
                "全部专家对三项标准均认为通过，不能认定为不合格或违规",
                "Every expert passed all three standards: the project cannot be unqualified or a violation",
            )
        )
    if outcome != Outcome.QUALIFIED and not reasons.strip():
        problems.append(
            Message("不合格或违规须写明理由", "An unqualified or violation outcome needs reasons")
        )
    if outcome == Outcome.VIOLATION:
        if violation is None:
            problems.append(Message("请选择违规情形", "Choose the kind of violation"))
        elif violation == ViolationKind.OTHER and not description.strip():
            problems.append(Message("“其他违规情形”须加以描述", "Describe the “other” violation"))
    elif violation is not None:
        problems.append(Message("只有违规结论才有违规情形", "Only a violation has a kind of violation"))
    return problems


NO_SHOW_REASON = Message(
    "企业或服务商不配合或未到场，按照抽查不通过处理",
    "The enterprise or the supplier obstructed the check or did not attend: treated as failed",
)
