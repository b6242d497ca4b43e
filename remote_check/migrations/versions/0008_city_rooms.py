"""city rooms: every active check session holds one of its city's rooms (``room:<city>:<k>``)

No schema change: the rooms are rows of ``bookings`` like a supplier's teams. The sessions booked
before are given a room each, in time order, the first free one; a session that finds none (a city
already running more checks at once than it has rooms) is left without one and listed in the log.

Revision ID: 0008_city_rooms
Revises: 0007_funding
Create Date: 2026-12-05 18:30:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import remote_check.database

revision: str = "0008_city_rooms"
down_revision: str | None = "0007_funding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = ("booked", "in_progress", "interrupted")

_sessions = sa.table(
    "check_sessions",
    sa.column("id", sa.Integer()),
    sa.column("city_code", sa.String()),
    sa.column("starts_at", remote_check.database.UTCDateTime()),
    sa.column("ends_at", remote_check.database.UTCDateTime()),
    sa.column("status", sa.String()),
)
_cities = sa.table("cities", sa.column("code", sa.String()), sa.column("rooms", sa.Integer()))
_bookings = sa.table(
    "bookings",
    sa.column("session_id", sa.Integer()),
    sa.column("hold_id", sa.Integer()),
    sa.column("resource", sa.String()),
    sa.column("starts_at", remote_check.database.UTCDateTime()),
    sa.column("ends_at", remote_check.database.UTCDateTime()),
    sa.column("slot", sa.Integer()),
)


def upgrade() -> None:
    bind = op.get_bind()
    rooms = {code: n for code, n in bind.execute(sa.select(_cities.c.code, _cities.c.rooms))}
    rows = bind.execute(
        sa.select(_sessions.c.id, _sessions.c.city_code, _sessions.c.starts_at, _sessions.c.ends_at)
        .where(_sessions.c.status.in_(ACTIVE))
        .order_by(_sessions.c.starts_at, _sessions.c.id)
    ).all()
    taken: dict[tuple[str, int], list[tuple[object, object]]] = {}
    new: list[dict[str, object]] = []
    for session_id, city, starts, ends in rows:
        for slot in range(max(1, rooms.get(city, 3))):
            busy = taken.setdefault((city, slot), [])
            if all(not (s < ends and starts < e) for s, e in busy):
                busy.append((starts, ends))
                new.append(
                    {
                        "session_id": session_id,
                        "hold_id": None,
                        "resource": f"room:{city}:{slot}",
                        "starts_at": starts,
                        "ends_at": ends,
                        "slot": slot,
                    }
                )
                break
        else:
            logging.getLogger("alembic").warning("session %s: no free room in city %s", session_id, city)
    if new:
        op.bulk_insert(_bookings, new)


def downgrade() -> None:
    op.execute(_bookings.delete().where(_bookings.c.resource.like("room:%")))
