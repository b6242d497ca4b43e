"""The deadline warning: a city's remaining checks against the working days before the money deadline."""

from __future__ import annotations

import datetime as dt

from remote_check.clock import SHANGHAI
from remote_check.database import transaction
from remote_check.programme.models import City, CityDayClosed
from remote_check.programme.models import ProjectStatus as S
from remote_check.settings import FundingSettings
from scheduler.deadline import check_city, checks_per_room_day, money_deadline
from scheduler.models import CheckSession
from scheduler.planning.service import PlanningOptions
from tests.conftest import Database
from tests.factories import add_project, add_supplier

# Monday 2020-06-15, 09:00 in Guangdong. To 2020-06-30 the working days are 16-19, 22-24, Sunday 28
# (调休 for the Dragon Boat Festival, 25-26 off), 29, 30: ten; five are kept for the money, so the
# last check day is Monday 22 (16, 17, 18, 19, 22).
NOW = dt.datetime(2020, 6, 15, 9, 0, tzinfo=SHANGHAI)
OPTIONS = PlanningOptions()  # 60-minute checks, 09:00-12:00 and 14:00-17:30: 6 a room a day
FUNDING = FundingSettings(days_after_checks=5)


async def _city(db: Database, sampled: int, *, late: bool = False, closed: bool = False) -> None:
    async with transaction(db.factory) as session:
        city = await session.get(City, "4419")
        assert city is not None
        city.rooms = 1
        if closed:
            session.add(CityDayClosed(city_code="4419", day=dt.date(2020, 6, 17), reason="停电"))
        bundle = await add_supplier(session)
        for _ in range(sampled):
            await add_project(session, bundle, status=S.SAMPLED)
        if late:
            project = await add_project(session, bundle, status=S.SCHEDULED)
            starts = dt.datetime(2020, 6, 23, 9, 0, tzinfo=SHANGHAI)
            session.add(
                CheckSession(
                    project_id=project.id,
                    city_code="4419",
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=1),
                    created_at=NOW,
                )
            )


async def test_checks_that_fit_give_no_warning(db: Database) -> None:
    assert checks_per_room_day(OPTIONS) == 6
    await _city(db, 30)
    async with db.factory() as session:
        result = await check_city(session, "4419", now=NOW, options=OPTIONS, settings=FUNDING)
    assert result.deadline == dt.date(2020, 6, 30)
    assert result.last_check_day == dt.date(2020, 6, 22)
    assert (result.working_days, result.capacity, result.remaining) == (5, 30, 30)
    assert not result.at_risk
    assert "can finish" in result.message().en


async def test_a_closed_day_and_one_check_too_many_warn(db: Database) -> None:
    await _city(db, 24, closed=True)
    async with db.factory() as session:
        result = await check_city(session, "4419", now=NOW, options=OPTIONS, settings=FUNDING)
        assert result.last_check_day == dt.date(2020, 6, 22)
        assert (result.working_days, result.capacity, result.unbooked) == (4, 24, 24)  # the 17th is closed
        assert not result.at_risk
        await add_project(session, await add_supplier(session), status=S.SAMPLED)
        await session.flush()
        result = await check_city(session, "4419", now=NOW, options=OPTIONS, settings=FUNDING)
    assert result.at_risk
    assert result.message().zh.startswith("警告")
    assert "cannot finish" in result.message().en


async def test_a_check_booked_after_the_last_check_day_warns(db: Database) -> None:
    await _city(db, 0, late=True)
    async with db.factory() as session:
        result = await check_city(session, "4419", now=NOW, options=OPTIONS, settings=FUNDING)
        assert (result.capacity, result.remaining, result.booked_late) == (30, 1, 1)
        assert result.at_risk
        kinder = await check_city(
            session, "4419", now=NOW, options=OPTIONS, settings=FundingSettings(days_after_checks=4)
        )
    assert kinder.last_check_day == dt.date(2020, 6, 23)
    assert (kinder.booked_in_time, kinder.booked_late) == (1, 0)
    assert not kinder.at_risk


async def test_no_working_day_left(db: Database) -> None:
    await _city(db, 1)
    async with db.factory() as session:
        result = await check_city(
            session, "4419", now=NOW, options=OPTIONS, settings=FUNDING, deadline=dt.date(2020, 6, 19)
        )
    assert result.last_check_day is None
    assert result.capacity == 0
    assert result.at_risk


async def test_the_deadline_is_the_periods_else_the_campaigns_else_the_settings(db: Database) -> None:
    from decimal import Decimal

    from remote_check.campaigns.models import Campaign
    from remote_check.funding.models import SettlementPeriod

    async with transaction(db.factory) as session:
        assert await money_deadline(session, "4419", FUNDING) == dt.date(2020, 6, 30)
        session.add(
            Campaign(
                city_code="4419",
                period="2019",
                title="东莞",
                budget=Decimal(0),
                deadline=dt.date(2020, 6, 20),
                created_at=NOW,
            )
        )
        await session.flush()
        assert await money_deadline(session, "4419", FUNDING) == dt.date(2020, 6, 20)
        session.add(
            SettlementPeriod(
                city_code="4419",
                name="P1",
                budget=Decimal(0),
                money_deadline=dt.date(2020, 7, 15),
                created_at=NOW,
            )
        )
        await session.flush()
        assert await money_deadline(session, "4419", FUNDING) == dt.date(2020, 7, 15)
        assert await money_deadline(session, "4401", FUNDING) == dt.date(2020, 6, 30)
