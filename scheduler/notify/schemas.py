"""Request and response shapes of the outbox API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from remote_check.ids import Id
from remote_check.paging import MAX_PAGE
from scheduler.notify.models import Channel, Kind, OutboxMessage, Status


class OutboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    session_id: Id | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class OutboxOut(BaseModel):
    """One notice to one recipient: what, to whom, by which channel, and how it went."""

    id: int
    session_id: int | None = Field(description="The check session (or null: a meeting's notice)")
    meeting_id: int | None = Field(default=None, description="The province meeting, for its notices")
    kind: Kind
    version: int = Field(description="The session's booking version (a move makes a new one)")
    recipient: str = Field(description="guest:<id>, expert:<id>, user:<id>, wecom:<city> or page")
    name: str
    address: str
    channel: Channel
    status: Status
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime
    error: str

    @classmethod
    def of(cls, row: OutboxMessage) -> OutboxOut:
        return cls(
            id=row.id,
            session_id=row.session_id,
            meeting_id=row.meeting_id,
            kind=Kind(row.kind),
            version=row.version,
            recipient=row.recipient,
            name=row.name,
            address=row.address,
            channel=Channel(row.channel),
            status=Status(row.status),
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at,
            error=row.error,
        )


class OutboxList(BaseModel):
    items: list[OutboxOut]
    total: int
    page: int
    page_size: int
