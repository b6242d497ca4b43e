"""Request and response shapes of the campaigns and draws API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from remote_check.campaigns.models import Campaign, CampaignStatus, Draw, DrawMode, DrawStatus
from remote_check.programme.cities import BY_CODE

SEED_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city_code: str = Field(pattern=r"^\d{4}$")
    period: str = Field(min_length=1, max_length=32)
    title: str = Field(default="", max_length=200)
    budget: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    deadline: dt.date


class CampaignOut(BaseModel):
    id: int
    city_code: str
    city_name_zh: str
    city_name_en: str
    period: str
    title: str
    budget: Decimal
    deadline: dt.date
    status: CampaignStatus
    created_at: dt.datetime


class CampaignList(BaseModel):
    items: list[CampaignOut]


class DrawCreate(BaseModel):
    """Either ``ratio`` (0 < r <= 1, four decimals at most) or ``count``; neither means the default ratio."""

    model_config = ConfigDict(extra="forbid")

    ratio: Decimal | None = Field(default=None, gt=0, le=1, decimal_places=4)
    count: int | None = Field(default=None, ge=1, le=100000)
    seed: str | None = Field(default=None, pattern=SEED_PATTERN)

    @model_validator(mode="after")
    def _one_of(self) -> DrawCreate:
        if self.ratio is not None and self.count is not None:
            raise ValueError("抽取比例与抽取数量只能给出一个 / Give a ratio or a count, not both")
        return self


class DrawSummary(BaseModel):
    id: int
    campaign_id: int
    seed: str
    mode: DrawMode
    ratio: Decimal | None
    count: int | None
    population: int
    target: int
    size: int
    status: DrawStatus
    created_at: dt.datetime
    published_at: dt.datetime | None


class CampaignDetail(BaseModel):
    campaign: CampaignOut
    draws: list[DrawSummary]


class DrawEntryOut(BaseModel):
    position: int
    project_id: int
    project_code: str
    enterprise_name: str
    supplier_name: str
    product_name: str
    contract_amount: Decimal
    status: str
    reasons: list[str]
    reason_labels: list[str]
    facts: dict[str, Any]


class DrawOut(BaseModel):
    draw: DrawSummary
    city_code: str
    algorithm: str
    thresholds: dict[str, Any]
    exceeds_target: bool
    entries: list[DrawEntryOut]


class DrawVerification(BaseModel):
    draw_id: int
    matches: bool
    inputs_sha256: str
    recorded_sha256: str | None
    problems: list[str]


def campaign_out(campaign: Campaign) -> CampaignOut:
    """The response shape of a campaign row."""
    city = BY_CODE.get(campaign.city_code)
    return CampaignOut(
        id=campaign.id,
        city_code=campaign.city_code,
        city_name_zh=city.name_zh if city else campaign.city_code,
        city_name_en=city.name_en if city else campaign.city_code,
        period=campaign.period,
        title=campaign.title,
        budget=campaign.budget,
        deadline=campaign.deadline,
        status=campaign.status,
        created_at=campaign.created_at,
    )


def draw_summary(draw: Draw, size: int, target: int) -> DrawSummary:
    """The response shape of a draw row (``size`` entries, ``target`` the size asked for)."""
    return DrawSummary(
        id=draw.id,
        campaign_id=draw.campaign_id,
        seed=draw.seed,
        mode=draw.mode,
        ratio=draw.ratio,
        count=draw.count,
        population=draw.population,
        target=target,
        size=size,
        status=draw.status,
        created_at=draw.created_at,
        published_at=draw.published_at,
    )
