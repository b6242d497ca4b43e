"""``remote-check experts cities``, ``unavailable``, ``city close|rooms``: changes made and bad input
refused naming the field (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from remote_check.cli import main
from remote_check.database import transaction
from remote_check.experts.models import ExpertCity
from remote_check.programme.models import City, CityDayClosed, Unavailability
from tests.conftest import Database
from tests.scheduling_factories import add_experts


async def _cli(db: Database, tmp_path: Path, *args: str) -> Result:
    runner = CliRunner()
    argv = ["--data-dir", str(tmp_path / "data"), "--database-url", db.url, *args]
    return await asyncio.to_thread(runner.invoke, main, argv)


async def test_the_commands_store_what_they_are_given(db: Database, tmp_path: Path) -> None:
    async with transaction(db.factory) as session:
        (expert,) = await add_experts(session, 1)
    ok = [
        await _cli(db, tmp_path, "experts", "cities", str(expert), "4401", "4419"),
        await _cli(
            db,
            tmp_path,
            "unavailable",
            "expert",
            str(expert),
            "2020-04-13T09:00",
            "2020-04-13T12:00",
            "--reason",
            "出差",
        ),
        await _cli(db, tmp_path, "city", "close", "4401", "2020-04-14", "--reason", "停电"),
        await _cli(db, tmp_path, "city", "rooms", "4401", "5"),
    ]
    assert [r.exit_code for r in ok] == [0, 0, 0, 0], [r.output for r in ok]
    async with db.factory() as session:
        cities = (
            await session.scalars(select(ExpertCity.city_code).where(ExpertCity.expert_id == expert))
        ).all()
        assert sorted(cities) == ["4401", "4419"]
        away = (await session.scalars(select(Unavailability))).one()
        assert (away.reason, away.starts_at.isoformat()) == ("出差", "2020-04-13T01:00:00+00:00")
        assert await session.scalar(select(func.count()).select_from(CityDayClosed)) == 1
        assert await session.scalar(select(City.rooms).where(City.code == "4401")) == 5


async def test_bad_input_is_refused_naming_the_field(db: Database, tmp_path: Path) -> None:
    async with transaction(db.factory) as session:
        (expert,) = await add_experts(session, 1)
    cases = [
        (("experts", "cities", "999999", "4401"), "field=expert"),
        (("experts", "cities", str(expert), "9999"), "field=city"),
        (("unavailable", "enterprise", "999999", "2020-04-13T09:00", "2020-04-13T10:00"), "field=id"),
        (("unavailable", "expert", str(expert), "tomorrow", "2020-04-13T10:00"), "field=start"),
        (("unavailable", "expert", str(expert), "2020-04-13T10:00", "2020-04-13T09:00"), "field=end"),
        (("city", "close", "9999", "2020-04-14"), "field=code"),
        (("city", "close", "4401", "14/4/2020"), "field=day"),
        (("city", "rooms", "4401", "0"), "field=rooms"),
    ]
    for args, named in cases:
        result = await _cli(db, tmp_path, *args)
        assert result.exit_code == 2, (args, result.output)
        assert named in result.output, (args, result.output)
    async with db.factory() as session:
        assert await session.scalar(select(func.count()).select_from(ExpertCity)) == 0
        assert await session.scalar(select(func.count()).select_from(Unavailability)) == 0
        assert await session.scalar(select(func.count()).select_from(CityDayClosed)) == 0
        assert await session.scalar(select(City.rooms).where(City.code == "4401")) == 3
