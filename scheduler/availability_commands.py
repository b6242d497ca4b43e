"""``remote-check experts cities``, ``remote-check unavailable``, ``remote-check city close|rooms``:
entering who serves where and when not (see :mod:`scheduler.availability`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import click

from remote_check.audit.service import Actor
from remote_check.clock import SHANGHAI, SystemClock
from remote_check.commandline import fail, run_db
from remote_check.database import transaction
from remote_check.errors import DomainError, invalid
from remote_check.programme.models import UnavailableKind
from remote_check.settings import Settings
from scheduler.availability_admin import add_unavailability, close_city_day, set_city_rooms, set_expert_cities


def _run(settings: Settings, work: Callable[[Any], Awaitable[object]]) -> None:
    async def _work(factory: Any) -> None:
        async with transaction(factory) as session:
            await work(session)

    try:
        run_db(settings, _work)
    except DomainError as exc:
        fail(exc)


def _instant(text: str, field: str) -> dt.datetime:
    """An ISO time; without an offset it is China time."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(invalid(f"时间格式有误：{text}", f"Not a time (YYYY-MM-DDTHH:MM): {text}", field=field))
        raise  # fail exits
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(invalid(f"日期格式有误：{text}", f"Not a day (YYYY-MM-DD): {text}", field="day"))
        raise


@click.group("experts")
def experts() -> None:
    """Experts."""


@experts.command("cities")
@click.argument("expert_id", metavar="EXPERT", type=int)
@click.argument("cities", metavar="CITY...", nargs=-1)
@click.pass_obj
def experts_cities(settings: Settings, expert_id: int, cities: tuple[str, ...]) -> None:
    """Limit an expert to the cities given (no city: every city again)."""

    async def work(session: Any) -> object:
        return await set_expert_cities(session, expert_id, cities, actor=Actor.cli(), now=SystemClock().now())

    _run(settings, work)
    shown = " ".join(sorted(set(cities))) or "全部 / every city"
    click.echo(f"专家 {expert_id} 服务城市 / serves: {shown}")


@click.command("unavailable")
@click.argument("kind", type=click.Choice([k.value for k in UnavailableKind]))
@click.argument("party_id", metavar="ID", type=int)
@click.argument("start")
@click.argument("end")
@click.option("--reason", default="", help="why (shown with a refused booking)")
@click.pass_obj
def unavailable(settings: Settings, kind: str, party_id: int, start: str, end: str, reason: str) -> None:
    """Mark an expert or an enterprise unavailable from START to END (ISO; China time if no offset)."""
    starts_at, ends_at = _instant(start, "start"), _instant(end, "end")

    async def work(session: Any) -> object:
        return await add_unavailability(
            session,
            UnavailableKind(kind),
            party_id,
            starts_at,
            ends_at,
            reason,
            actor=Actor.cli(),
            now=SystemClock().now(),
        )

    _run(settings, work)
    click.echo(f"已登记 / recorded: {kind} {party_id} {starts_at.isoformat()} – {ends_at.isoformat()}")


@click.group("city")
def city() -> None:
    """A city's rooms and closed days."""


@city.command("close")
@click.argument("code")
@click.argument("day")
@click.option("--reason", default="")
@click.pass_obj
def city_close(settings: Settings, code: str, day: str, reason: str) -> None:
    """Mark DAY (YYYY-MM-DD) closed in city CODE: no check there that day."""
    when = _day(day)

    async def work(session: Any) -> object:
        await close_city_day(session, code, when, reason, actor=Actor.cli(), now=SystemClock().now())
        return None

    _run(settings, work)
    click.echo(f"{code} {when.isoformat()} 不安排核查 / closed")


@city.command("rooms")
@click.argument("code")
@click.argument("rooms", metavar="N", type=int)
@click.pass_obj
def city_rooms(settings: Settings, code: str, rooms: int) -> None:
    """Set how many checks city CODE can hold at once."""

    async def work(session: Any) -> object:
        await set_city_rooms(session, code, rooms, actor=Actor.cli(), now=SystemClock().now())
        return None

    _run(settings, work)
    click.echo(f"{code} 会议室 / rooms: {rooms}")
