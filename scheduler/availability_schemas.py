"""Request and response shapes of a city's availability API (never ORM rows in JSON)."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from remote_check.ids import Id
from remote_check.programme.models import UnavailableKind
from remote_check.query import Day
from scheduler.availability_admin import MAX_ROOMS


class UnavailableCreate(BaseModel):
    """Mark an expert serving the city, or one of the city's enterprises, unavailable."""

    model_config = ConfigDict(extra="forbid")

    kind: UnavailableKind
    party_id: Id
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(default="", max_length=200)


class UnavailableOut(BaseModel):
    id: int
    kind: UnavailableKind
    party_id: int
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


class UnavailableAdded(UnavailableOut):
    """An unavailability just recorded, with the checks already booked during it: they stay booked
    (the booking refuses only new times); the coordinator moves them."""

    affected_sessions: list[int]


class ClosedDayCreate(BaseModel):
    """Close a day in the city: no check takes place there that day."""

    model_config = ConfigDict(extra="forbid")

    day: Day
    reason: str = Field(default="", max_length=200)


class ClosedDayOut(BaseModel):
    day: dt.date
    reason: str


class ClosedDayAdded(ClosedDayOut):
    """A day just closed, with the city's checks already booked that day (they stay booked)."""

    affected_sessions: list[int]


class RoomsUpdate(BaseModel):
    """How many checks the city can hold at once (fewer than it has booked at once is a 409)."""

    model_config = ConfigDict(extra="forbid")

    rooms: int = Field(ge=1, le=MAX_ROOMS)


class PartyOut(BaseModel):
    kind: UnavailableKind
    id: int
    name: str


class CityAvailabilityOut(BaseModel):
    """A city's rooms, closed days from today on, the parties it may mark unavailable and their
    unavailability ending after now."""

    city_code: str
    rooms: int
    closed_days: list[ClosedDayOut]
    unavailable: list[UnavailableOut]
    experts: list[PartyOut]
    enterprises: list[PartyOut]
