"""Request and response shapes of the audit log API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from remote_check.errors import Message
from remote_check.paging import MAX_PAGE
from remote_check.query import Moment, Text


class AuditQuery(BaseModel):
    """Filters of the audit log. A filter left out means "any" (an empty one is refused); unknown
    parameters are ignored.

    ``action`` matches the action itself and every action below it: ``auth`` matches
    ``auth.login`` and ``auth.logout``. ``actor`` is an actor reference (``user:7``,
    ``cli``) or a user name (then it matches that user's entries and failed log-ins under
    that name). ``since`` is inclusive, ``until`` exclusive; both must carry a time zone.
    """

    model_config = ConfigDict(extra="ignore")

    action: Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")] | None = None
    actor: Text | None = None
    since: Moment | None = None
    until: Moment | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=200)

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
