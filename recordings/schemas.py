"""Request and response shapes of the marks and stills API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from recordings.models import ItemMark, Still

ItemCode = Field(pattern=r"^[A-Z]\d{1,3}$", description="the checklist item's code, e.g. M3")


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = ItemCode
    edge: Literal["start", "end"]


class MarkOut(BaseModel):
    id: int
    item: str
    start: float = Field(description="seconds on the recording's clock (= time in the replay)")
    end: float | None
    created_by: int
    created_at: dt.datetime

    @classmethod
    def of(cls, mark: ItemMark, code: str) -> MarkOut:
        return cls(
            id=mark.id,
            item=code,
            start=mark.start,
            end=mark.end,
            created_by=mark.created_by,
            created_at=mark.created_at,
        )


class StillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str | None = Field(default=None, pattern=r"^[A-Z]\d{1,3}$")


class StillOut(BaseModel):
    id: int
    item: str | None
    at: float = Field(description="seconds on the recording's clock")
    part: int
    created_at: dt.datetime

    @classmethod
    def of(cls, still: Still, code: str | None) -> StillOut:
        return cls(id=still.id, item=code, at=still.at, part=still.part_number, created_at=still.created_at)


class EvidenceOut(BaseModel):
    session_id: int
    marks: list[MarkOut]
    stills: list[StillOut]
