"""The panel's verdict on a checked project (notice 粤工信办函〔2020〕26号, 二, 四 and 五).

Each expert of the panel of the project's held session gives an :class:`Opinion` per standard
(实施真实, 财务规范, 功能完整: pass or fail, reasons on a fail); the lead expert proposes the panel's
conclusion (a :class:`Verdict`: outcome, for a violation its kind and description, reasons); the
coordinator of the project's city confirms it (the outcome is then applied) or returns it to the
lead with a note. A no-show session is concluded by the coordinator alone (不合格, 按照抽查不通过处理).
Experts' :class:`Suggestion` rows (notice 五(二)) and problems found (五(一)) go to the city.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.checklist.models import Standard
from remote_check.database import Base, UTCDateTime
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.programme.models import enum_column


class VerdictState(enum.StrEnum):
    PROPOSED = "proposed"  # by the lead expert, awaiting the coordinator
    RETURNED = "returned"  # sent back to the lead with a note
    CONFIRMED = "confirmed"  # final: the outcome was applied to the project


class SuggestionTopic(enum.StrEnum):
    PROJECT = "project"  # 项目建设
    SUPPLIER = "supplier"  # 服务商服务能力
    POLICY = "policy"  # 服务券政策
    PROBLEM = "problem"  # 抽查中发现的问题, reported to the city


class Opinion(Base):
    """One expert's opinion on one standard of a project, after its held session."""

    __tablename__ = "verdict_opinions"
    __table_args__ = (UniqueConstraint("session_id", "expert_id", "standard"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))
    standard: Mapped[Standard] = mapped_column(enum_column(Standard, "checklist_standard"))
    passed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(Text, default="")
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    given_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Verdict(Base):
    """The panel's conclusion on a project for one session (the held one, or a no-show)."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("check_sessions.id"), unique=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    state: Mapped[VerdictState] = mapped_column(enum_column(VerdictState, "verdict_state"))
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, "outcome"))
    violation: Mapped[ViolationKind | None] = mapped_column(enum_column(ViolationKind, "violation_kind"))
    description: Mapped[str] = mapped_column(Text, default="")  # of the violation (required for OTHER)
    reasons: Mapped[str] = mapped_column(Text, default="")
    no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    return_note: Mapped[str] = mapped_column(Text, default="")
    returned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Suggestion(Base):
    """An expert's suggestion on the project, the supplier's capacity or the policy, or a problem
    found during the check reported to the city (notice 五(一)(二))."""

    __tablename__ = "verdict_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("voucher_projects.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"))
    topic: Mapped[SuggestionTopic] = mapped_column(enum_column(SuggestionTopic, "suggestion_topic"))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
