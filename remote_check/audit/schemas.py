"""Request and response shapes of the audit log API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from remote_check.errors import Message
from remote_check.paging import MAX_PAGE


class AuditQuery(BaseModel):
    """Filters of the audit log. Blank values mean "any"; unknown parameters are ignored.

    ``action`` matches the action itself and every action below it: ``auth`` matches
    ``auth.login`` and ``auth.logout``. ``actor`` is an actor reference (``user:7``,
    ``cli``) or a user name (then it matches that user's entries and failed log-ins under
    that name). ``since`` is inclusive, ``until`` exclusive; both must carry a time zone.
    """

    model_config = ConfigDict(extra="ignore")

    action: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, max_length=100)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @field_validator("until")
    @classmethod
    def _after_since(cls, until: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        since = info.data.get("since")
        if until is not None and since is not None and until <= since:
            raise ValueError(str(Message("结束时间须晚于开始时间", "'until' must be later than 'since'")))
        return until


class AuditEntryOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    city_code: str | None
    action: str
    target: str
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    """Entries newest first, with the total that matched the filters."""

    items: list[AuditEntryOut]
    total: int
    page: int
    page_size: int
    pages: int


class FindingOut(BaseModel):
    """One break in the hash chain; ``message`` is in the caller's language."""

    seq: int
    kind: str = Field(description="altered | removed | inserted | truncated | rewritten | bad-checkpoint")
    message: str


class VerifyReport(BaseModel):
    """The keyed chain checked, and the database against the ``checkpoints`` signed checkpoints."""

    intact: bool
    entries: int
    head_seq: int
    checkpoints: int = 0
    findings: list[FindingOut]
