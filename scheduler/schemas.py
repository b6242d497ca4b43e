"""Request and response shapes of the check-session API (never ORM rows in JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from remote_check.ids import Id
from remote_check.paging import MAX_PAGE
from remote_check.query import Day
from scheduler.life import Phase
from scheduler.models import GuestKind, PanelRole, SessionStatus


class SessionCreate(BaseModel):
    """Book a session: the panel lists expert ids, the lead first (3 or 5 experts)."""

    model_config = ConfigDict(extra="forbid")

    project_id: Id
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    panel: list[Id] = Field(min_length=1, max_length=9)
    host_user_id: Id | None = Field(
        default=None,
        description="The host: an active coordinator of the project's city or a province "
        "administrator (the booker when left out); any other id is the same 422",
    )
    confirm_off_hours: bool = Field(
        default=False,
        description="Book on a weekend or outside 08:00-18:00 China time (else 409 needs_confirmation)",
    )


class SessionMove(BaseModel):
    """Reschedule a session not yet held: a new time and, if given, a new panel (lead first)."""

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    panel: list[Id] | None = Field(default=None, min_length=1, max_length=9)
    confirm_off_hours: bool = False


class SessionEnd(BaseModel):
    """Record a no-show (after the start)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class SessionCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class SessionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city_code: str | None = Field(default=None, pattern=r"^\d{4}$")
    status: SessionStatus | None = None
    project_id: Id | None = None
    expert_id: Id | None = None
    supplier_id: Id | None = None
    date_from: Day | None = None
    date_to: Day | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class PartyOut(BaseModel):
    id: int
    name: str
    credit_code: str


class PanelSeatOut(BaseModel):
    expert_id: int
    name: str
    employer: str
    role: PanelRole


class GuestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: GuestKind
    name: str = Field(min_length=1, max_length=100)
    organisation: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)


class GuestOut(BaseModel):
    id: int
    kind: GuestKind
    organisation: str
    name: str
    email: str
    phone: str
    revoked: bool
    link: str | None = Field(
        default=None, description="Only in the answers to invite, renew and show-link (audited)"
    )
    link_expires_at: dt.datetime | None = Field(
        default=None, description="The session's current end plus the grace period"
    )


class SessionOut(BaseModel):
    id: int
    project_id: int
    project_code: str
    city_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: SessionStatus
    phase: Phase = Field(
        description="The status, with 'open' derived from the clock: where the session is now"
    )
    opens_at: dt.datetime = Field(description="When its room opens (earlier if the host opened it)")
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    enterprise: PartyOut
    supplier: PartyOut
    panel: list[PanelSeatOut]
    host_user_id: int | None
    resources: list[str]
    guests: list[GuestOut] = Field(default_factory=list)


class SessionSummary(BaseModel):
    id: int
    project_id: int
    project_code: str
    city_code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: SessionStatus
    phase: Phase
    enterprise_name: str
    supplier_name: str


class SessionList(BaseModel):
    items: list[SessionSummary]
    total: int
    page: int
    page_size: int


class ExpertQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conflicts_with_project: Id | None = None
    # With a project: list only the experts who have a conflict of interest ("only"), only
    # those who have none ("exclude"), or everyone with their conflicts marked ("all").
    conflict: Literal["only", "exclude", "all"] = "only"
    city_code: str | None = Field(default=None, pattern=r"^\d{4}$")
    active: bool | None = True


class ExpertOut(BaseModel):
    id: int
    name: str
    employer: str
    speciality: str
    home_city_code: str | None
    active: bool
    conflicts: list[str]


class ExpertList(BaseModel):
    items: list[ExpertOut]


class HoldCreate(BaseModel):
    """Hold a time for 5 minutes: the project, the time and the panel (lead first), as when booking."""

    model_config = ConfigDict(extra="forbid")

    project_id: Id
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    panel: list[Id] = Field(min_length=1, max_length=9)


class HoldOut(BaseModel):
    """A hold: for everyone else the time is booked until ``expires_at``."""

    id: int
    project_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    panel: list[int]
    expires_at: dt.datetime
