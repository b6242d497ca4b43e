"""The bars register: who may not apply for public funding, until when (notice 四(二): 5 years).

The register (:class:`~remote_check.outcomes.sanction_models.Bar`) is the record; the parties'
``barred_until`` columns are kept equal to the latest end of their bars not lifted, so the import
and the booking rules, which read the columns, see every bar. :func:`is_barred` reads the register
(the allocation asks it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.outcomes.sanction_models import Bar, PartyKind
from remote_check.programme.models import Enterprise, Supplier

BAR_YEARS = 5


def bar_end(confirmed_on: dt.date, years: int = BAR_YEARS) -> dt.date:
    """The last barred day: ``years`` years from ``confirmed_on``, less a day (29 Feb -> 28 Feb)."""
    try:
        same_day = confirmed_on.replace(year=confirmed_on.year + years)
    except ValueError:  # 29 February in a year without one
        same_day = dt.date(confirmed_on.year + years, 3, 1)
    return same_day - dt.timedelta(days=1)


async def is_barred(session: AsyncSession, kind: PartyKind | str, party_id: int, on_date: dt.date) -> bool:
    """Whether the enterprise or supplier ``party_id`` is barred on ``on_date`` (by a bar not lifted)."""
    found = await session.scalar(
        select(Bar.id)
        .where(
            Bar.party_kind == PartyKind(kind),
            Bar.party_id == party_id,
            Bar.lifted_at.is_(None),
            Bar.starts_on <= on_date,
            Bar.ends_on >= on_date,
        )
        .limit(1)
    )
    return found is not None


async def barred_until(session: AsyncSession, kind: PartyKind, party_id: int) -> dt.date | None:
    """The latest end of the party's bars not lifted (None: no bar)."""
    value: dt.date | None = await session.scalar(
        select(func.max(Bar.ends_on)).where(
            Bar.party_kind == kind, Bar.party_id == party_id, Bar.lifted_at.is_(None)
        )
    )
    return value


async def sync_party(session: AsyncSession, kind: PartyKind, party_id: int) -> dt.date | None:
    """Set the party's ``barred_until`` column from the register; returns it."""
    until = await barred_until(session, kind, party_id)
    party: Enterprise | Supplier | None
    if kind == PartyKind.ENTERPRISE:
        party = await session.get(Enterprise, party_id, with_for_update=True)
    else:
        party = await session.get(Supplier, party_id, with_for_update=True)
    if party is not None:
        party.barred_until = until
    return until


async def register(session: AsyncSession, *, standing_only: bool = False) -> list[tuple[Bar, str]]:
    """The bars, the newest first, each with its party's name."""
    stmt = select(Bar).order_by(Bar.id.desc())
    if standing_only:
        stmt = stmt.where(Bar.lifted_at.is_(None))
    bars = list((await session.scalars(stmt)).all())
    ids = {kind: [b.party_id for b in bars if b.party_kind == kind] for kind in PartyKind}
    names = {
        (PartyKind.ENTERPRISE, i): n
        for i, n in (
            await session.execute(
                select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids[PartyKind.ENTERPRISE]))
            )
        ).all()
    } | {
        (PartyKind.SUPPLIER, i): n
        for i, n in (
            await session.execute(
                select(Supplier.id, Supplier.name).where(Supplier.id.in_(ids[PartyKind.SUPPLIER]))
            )
        ).all()
    }
    return [(b, names.get((b.party_kind, b.party_id), "")) for b in bars]
