"""Request and response shapes of the sanctions API: the bars register, publications, decisions."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from remote_check.outcomes.kinds import Outcome
from remote_check.outcomes.sanction_models import Bar, Objection, ObjectionDecision, PartyKind, Publication


class BarsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    standing: bool = Field(default=True, description="Only bars not lifted")


class BarOut(BaseModel):
    """A party barred from applying for public funding."""

    id: int
    party_kind: PartyKind
    party_id: int
    starts_on: dt.date
    ends_on: dt.date = Field(description="The last barred day")
    reason: str
    source_project_id: int
    lifted_at: dt.datetime | None
    lift_reason: str

    @classmethod
    def of(cls, bar: Bar) -> BarOut:
        return cls(
            id=bar.id,
            party_kind=bar.party_kind,
            party_id=bar.party_id,
            starts_on=bar.starts_on,
            ends_on=bar.ends_on,
            reason=bar.reason,
            source_project_id=bar.source_project_id,
            lifted_at=bar.lifted_at,
            lift_reason=bar.lift_reason,
        )


class BarList(BaseModel):
    items: list[BarOut]


class ResultLine(BaseModel):
    """One published line: no personal data."""

    code: str
    enterprise: str
    supplier: str
    outcome: Outcome


class PublicationOut(BaseModel):
    id: int
    city_code: str
    published_at: dt.datetime
    objections_until: dt.date = Field(description="The last working day objections are taken")
    rows: list[ResultLine]

    @classmethod
    def of(cls, publication: Publication) -> PublicationOut:
        return cls(
            id=publication.id,
            city_code=publication.city_code,
            published_at=publication.published_at,
            objections_until=publication.objections_until,
            rows=[
                ResultLine(
                    code=r["code"], enterprise=r["enterprise"], supplier=r["supplier"], outcome=r["outcome"]
                )
                for r in publication.rows
            ],
        )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uphold: bool = Field(description="True: the outcome stands; false: it is overturned")
    reason: str = Field(min_length=1, max_length=2000)
    new_outcome: Outcome | None = Field(default=None, description="Required to overturn")


class ObjectionOut(BaseModel):
    id: int
    publication_id: int
    project_id: int
    party_kind: PartyKind
    outcome: Outcome
    submitted_at: dt.datetime
    decision: ObjectionDecision | None
    new_outcome: Outcome | None
    decision_reason: str
    decided_at: dt.datetime | None

    @classmethod
    def of(cls, objection: Objection) -> ObjectionOut:
        return cls(
            id=objection.id,
            publication_id=objection.publication_id,
            project_id=objection.project_id,
            party_kind=objection.party_kind,
            outcome=Outcome(objection.outcome),
            submitted_at=objection.submitted_at,
            decision=objection.decision,
            new_outcome=Outcome(objection.new_outcome) if objection.new_outcome else None,
            decision_reason=objection.decision_reason,
            decided_at=objection.decided_at,
        )
