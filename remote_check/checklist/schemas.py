"""Request and response shapes of the checklist API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from remote_check.checklist.models import ChecklistItem, ItemResult, Standard


class ChecklistItemOut(BaseModel):
    code: str
    standard: Standard
    position: int
    title_zh: str
    title_en: str
    guidance_zh: str
    guidance_en: str
    evidence_zh: str
    evidence_en: str
    result: ItemResult
    notes: str
    updated_at: dt.datetime | None
    updated_by: int | None

    @classmethod
    def of(cls, item: ChecklistItem) -> ChecklistItemOut:
        return cls(
            code=item.code,
            standard=item.standard,
            position=item.position,
            title_zh=item.title_zh,
            title_en=item.title_en,
            guidance_zh=item.guidance_zh,
            guidance_en=item.guidance_en,
            evidence_zh=item.evidence_zh,
            evidence_en=item.evidence_en,
            result=item.result,
            notes=item.notes,
            updated_at=item.updated_at,
            updated_by=item.updated_by,
        )


class ChecklistOut(BaseModel):
    project_id: int
    project_code: str
    items: list[ChecklistItemOut]


class ChecklistItemUpdate(BaseModel):
    """An expert's result (pending / pass / fail / na) and notes; give at least one."""

    model_config = ConfigDict(extra="forbid")

    result: ItemResult | None = None
    notes: str | None = Field(default=None, max_length=4000)
