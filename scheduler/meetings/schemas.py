"""Request and response shapes of the meetings API (never ORM rows in JSON)."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from remote_check.ids import Id
from scheduler.meetings.models import Meeting, MeetingKind, NomineeRole, Question
from scheduler.meetings.overview import CityView, Person


class MeetingCreate(BaseModel):
    """A meeting as the province sets it; unset times take the notice's defaults (join by 17:00 the
    day before, the signal test at 18:00 that evening for an hour)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    kind: MeetingKind = MeetingKind.TRAINING
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    join_deadline: AwareDatetime | None = None
    test_starts_at: AwareDatetime | None = None
    test_ends_at: AwareDatetime | None = None
    city_quota: int = Field(default=12, ge=1, le=100)
    speaker_ids: list[Id] = Field(default_factory=list, max_length=20)


class MeetingOut(BaseModel):
    id: int
    title: str
    kind: MeetingKind
    starts_at: dt.datetime
    ends_at: dt.datetime
    join_deadline: dt.datetime
    test_starts_at: dt.datetime
    test_ends_at: dt.datetime
    city_quota: int
    cancelled: bool
    speaker_ids: list[int]

    @classmethod
    def of(cls, meeting: Meeting, speakers: list[int]) -> MeetingOut:
        return cls(
            id=meeting.id,
            title=meeting.title,
            kind=meeting.kind,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            join_deadline=meeting.join_deadline,
            test_starts_at=meeting.test_starts_at,
            test_ends_at=meeting.test_ends_at,
            city_quota=meeting.city_quota,
            cancelled=meeting.cancelled,
            speaker_ids=speakers,
        )


class MeetingList(BaseModel):
    items: list[MeetingOut]


class NominationCreate(BaseModel):
    """An existing user (``user_id``) or a named outsider (单位 ``organisation`` + 姓名 ``name``)."""

    model_config = ConfigDict(extra="forbid")
    role: NomineeRole
    user_id: Id | None = None
    organisation: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=200)


class SignalTestOut(BaseModel):
    at: dt.datetime
    passed: bool
    camera_ok: bool
    microphone_ok: bool
    screen_ok: bool
    fps: float
    bitrate_kbps: int
    rtt_ms: int | None


class NominationOut(BaseModel):
    id: int
    city_code: str
    user_id: int | None
    organisation: str
    name: str
    email: str
    role: NomineeRole
    test: SignalTestOut | None = Field(description="The latest signal test; null: not tested yet")
    attended: bool
    link: str | None = Field(default=None, description="The personal link: only in the answer to nominate")

    @classmethod
    def of(cls, person: Person, link: str | None = None) -> NominationOut:
        n, t = person.nomination, person.test
        test = None
        if t is not None:
            test = SignalTestOut(
                at=t.at,
                passed=t.passed,
                camera_ok=t.camera_ok,
                microphone_ok=t.microphone_ok,
                screen_ok=t.screen_ok,
                fps=t.fps,
                bitrate_kbps=t.bitrate_kbps,
                rtt_ms=t.rtt_ms,
            )
        return cls(
            id=n.id,
            city_code=n.city_code,
            user_id=n.user_id,
            organisation=n.organisation,
            name=n.name,
            email=n.email,
            role=n.role,
            test=test,
            attended=person.attended,
            link=link,
        )


class MeetingCityOut(BaseModel):
    code: str
    name: str
    quota: int
    nominated: int
    tested: int
    untested: int
    attended: int
    people: list[NominationOut]

    @classmethod
    def of(cls, view: CityView, lang: str) -> MeetingCityOut:
        return cls(
            code=view.code,
            name=view.name_zh if lang == "zh" else view.name_en,
            quota=view.quota,
            nominated=len(view.people),
            tested=view.tested,
            untested=len(view.untested),
            attended=view.attended,
            people=[NominationOut.of(p) for p in view.people],
        )


class MeetingCityList(BaseModel):
    items: list[MeetingCityOut]


class QuestionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500)


class QuestionOut(BaseModel):
    id: int
    text: str
    posted_at: dt.datetime
    shown: bool
    answered: bool

    @classmethod
    def of(cls, q: Question) -> QuestionOut:
        return cls(
            id=q.id, text=q.text, posted_at=q.posted_at, shown=q.shown, answered=q.answered_at is not None
        )


class QuestionList(BaseModel):
    items: list[QuestionOut]


class Landing(BaseModel):
    """What a nominee's personal link shows."""

    meeting: MeetingOut
    name: str
    organisation: str
    city_code: str
    tested: bool
    test_link: str
    room_link: str
