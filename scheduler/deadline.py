"""Can a city's remaining checks finish in time for the money (资金下达, notice 五(四))?

The money must reach the enterprises by the deadline (2020-06-30 in the notice; a settlement period's
``money_deadline``, else the city's open campaign's deadline, else the ``funding.money_deadline``
setting), and the verdicts, the allocation and
the transfer need ``funding.days_after_checks`` working days after the last check. The checks left
(projects sampled but not booked, and booked checks) must fit the city's capacity before that: its
rooms x the checks one room holds per working day (the planner's working periods and check length) x
the working days from tomorrow to the last check day (China's official calendar, minus the city's
closed days). A booked check after the last check day is late whatever the capacity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.campaigns.models import Campaign, CampaignStatus
from remote_check.clock import SHANGHAI
from remote_check.errors import Message
from remote_check.funding.models import SettlementPeriod
from remote_check.programme.models import City, ProjectStatus, VoucherProject
from remote_check.settings import FundingSettings
from scheduler.availability import closed_days
from scheduler.lifecycle import ACTIVE
from scheduler.models import CheckSession
from scheduler.planning.service import PlanningOptions, planning_days


def checks_per_room_day(options: PlanningOptions) -> int:
    """How many checks one room holds in a working day."""
    total = 0
    for start, end in options.day_hours:
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        total += minutes // options.session_minutes
    return total


@dataclass(frozen=True)
class DeadlineCheck:
    """A city's remaining checks against the days left before the money deadline."""

    city_code: str
    deadline: dt.date
    last_check_day: dt.date | None  # None: no working day is left for checks
    working_days: int
    rooms: int
    per_room_day: int
    unbooked: int  # sampled, not booked
    booked_in_time: int
    booked_late: int  # booked after the last check day
    unknown_years: tuple[int, ...] = ()

    @property
    def capacity(self) -> int:
        return self.working_days * self.rooms * self.per_room_day

    @property
    def remaining(self) -> int:
        return self.unbooked + self.booked_in_time + self.booked_late

    @property
    def at_risk(self) -> bool:
        """True when the checks left cannot all be done by the last check day."""
        return self.booked_late > 0 or self.unbooked + self.booked_in_time > self.capacity

    def message(self) -> Message:
        """The warning (or the all-clear) in both languages."""
        day = self.deadline.isoformat()
        if not self.at_risk:
            return Message(
                f"剩余 {self.remaining} 项核查可在资金下达期限 {day} 前完成（可安排 {self.capacity} 场）",
                f"The {self.remaining} checks left can finish before the money deadline {day} "
                f"(room for {self.capacity})",
            )
        return Message(
            f"警告：剩余 {self.remaining} 项核查无法在资金下达期限 {day} 前完成："
            f"截至 {self.last_check_day or '—'} 仅有 {self.working_days} 个工作日，"
            f"{self.rooms} 个会议室每日各 {self.per_room_day} 场，共 {self.capacity} 场；"
            f"{self.booked_late} 场已排在该日之后",
            f"Warning: the {self.remaining} checks left cannot finish before the money deadline {day}: "
            f"{self.working_days} working days to {self.last_check_day or '—'}, {self.rooms} rooms of "
            f"{self.per_room_day} checks a day make {self.capacity}; "
            f"{self.booked_late} are booked after that day",
        )


def last_check_day(days: list[dt.date], keep: int) -> dt.date | None:
    """The last of ``days`` once ``keep`` working days are kept for the money (None: none left)."""
    if keep >= len(days):
        return None
    return days[len(days) - keep - 1]


async def money_deadline(session: AsyncSession, city_code: str, settings: FundingSettings) -> dt.date:
    """The city's money deadline: its latest settlement period's, else its latest open campaign's
    deadline, else the ``funding.money_deadline`` setting."""
    day = await session.scalar(
        select(SettlementPeriod.money_deadline)
        .where(SettlementPeriod.city_code == city_code)
        .order_by(SettlementPeriod.id.desc())
        .limit(1)
    )
    if day is None:
        day = await session.scalar(
            select(Campaign.deadline)
            .where(Campaign.city_code == city_code, Campaign.status != CampaignStatus.CLOSED)
            .order_by(Campaign.id.desc())
            .limit(1)
        )
    return day or settings.money_deadline


async def check_city(
    session: AsyncSession,
    city_code: str,
    *,
    now: dt.datetime,
    options: PlanningOptions,
    settings: FundingSettings,
    deadline: dt.date | None = None,
) -> DeadlineCheck:
    """Whether ``city_code``'s remaining checks fit before its money deadline (read only)."""
    deadline = deadline or await money_deadline(session, city_code, settings)
    first = now.astimezone(SHANGHAI).date() + dt.timedelta(days=1)
    days, unknown = planning_days(first, deadline)
    shut = {c.day for c in await closed_days(session, [city_code], first, deadline)}
    days = [d for d in days if d not in shut]
    last = last_check_day(days, settings.days_after_checks)
    usable = [d for d in days if last is not None and d <= last]
    rooms = await session.scalar(select(City.rooms).where(City.code == city_code))
    # checks that start from the day after the last check day on are late (all of them, when none is left)
    cutoff_day = last + dt.timedelta(days=1) if last is not None else first
    cutoff = dt.datetime.combine(cutoff_day, dt.time(0), SHANGHAI)
    starts = (
        await session.scalars(
            select(CheckSession.starts_at).where(
                CheckSession.city_code == city_code, CheckSession.status.in_(ACTIVE)
            )
        )
    ).all()
    late = sum(1 for at in starts if at >= cutoff)
    in_time = len(starts) - late
    active = select(CheckSession.project_id).where(CheckSession.status.in_(ACTIVE))
    unbooked = await session.scalar(
        select(func.count())
        .select_from(VoucherProject)
        .where(
            VoucherProject.city_code == city_code,
            VoucherProject.status == ProjectStatus.SAMPLED,
            VoucherProject.id.not_in(active),
        )
    )
    return DeadlineCheck(
        city_code=city_code,
        deadline=deadline,
        last_check_day=last,
        working_days=len(usable),
        rooms=rooms if rooms is not None else options.rooms_per_city,
        per_room_day=checks_per_room_day(options),
        unbooked=unbooked or 0,
        booked_in_time=in_time,
        booked_late=late,
        unknown_years=tuple(unknown),
    )


async def check_cities(
    session: AsyncSession,
    city_codes: list[str],
    *,
    now: dt.datetime,
    options: PlanningOptions,
    settings: FundingSettings,
) -> list[DeadlineCheck]:
    """:func:`check_city` for each city (the province dashboard's warnings: keep the ``at_risk`` ones)."""
    return [
        await check_city(session, code, now=now, options=options, settings=settings) for code in city_codes
    ]
