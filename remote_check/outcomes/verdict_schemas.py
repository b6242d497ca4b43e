"""Request and response shapes of the verdict API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from remote_check.checklist.models import ItemResult, Standard
from remote_check.outcomes.kinds import Outcome, ViolationKind
from remote_check.outcomes.verdict_models import SuggestionTopic, VerdictState


class OpinionIn(BaseModel):
    """An expert's opinion on one standard: pass or fail, reasons (required on a fail)."""

    model_config = ConfigDict(extra="forbid")

    standard: Standard
    passed: bool
    reasons: str = Field(default="", max_length=4000)


class OpinionsIn(BaseModel):
    """One or more of the expert's opinions (at most one per standard)."""

    model_config = ConfigDict(extra="forbid")

    opinions: list[OpinionIn] = Field(min_length=1, max_length=3)


class ProposalIn(BaseModel):
    """The lead expert's proposed conclusion."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    violation: ViolationKind | None = None
    description: str = Field(default="", max_length=4000)
    reasons: str = Field(default="", max_length=4000)


class ReturnIn(BaseModel):
    """The coordinator sends the proposal back to the lead, saying why."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000)


class NoShowIn(BaseModel):
    """The coordinator concludes a no-show session (不合格); an optional note."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=4000)


class SuggestionIn(BaseModel):
    """An expert's suggestion (project, supplier's capacity, policy) or a problem found."""

    model_config = ConfigDict(extra="forbid")

    topic: SuggestionTopic
    text: str = Field(min_length=1, max_length=4000)


class OpinionOut(BaseModel):
    standard: Standard
    passed: bool
    reasons: str
    given_at: dt.datetime


class PanelMemberOut(BaseModel):
    expert_id: int
    name: str
    lead: bool
    opinions: list[OpinionOut]


class TallyOut(BaseModel):
    standard: Standard
    passes: int
    fails: int
    missing: int
    majority_fail: bool


class ItemOut(BaseModel):
    code: str
    standard: Standard
    title_zh: str
    result: ItemResult
    notes: str
    moments: list[float]  # seconds on the session's recording where the item was shown


class VerdictOut(BaseModel):
    state: VerdictState
    outcome: Outcome
    violation: ViolationKind | None
    description: str
    reasons: str
    no_show: bool
    proposed_at: dt.datetime | None
    return_note: str
    confirmed_at: dt.datetime | None


class SuggestionOut(BaseModel):
    id: int
    topic: SuggestionTopic
    text: str
    author: str
    created_at: dt.datetime


class ProjectVerdictOut(BaseModel):
    """Everything of a project's verdict the caller may see."""

    project_id: int
    project_code: str
    project_status: str
    session_id: int | None
    panel: list[PanelMemberOut]
    tallies: list[TallyOut]
    checklist: list[ItemOut]
    verdict: VerdictOut | None
    suggestions: list[SuggestionOut]
