"""Booking changes, as they are committed: which check sessions a transaction touched.

:func:`watch` gives a session factory its own sync ``Session`` class with two hooks: after each
flush it notes the sessions whose row, panel seats or guests changed (new, altered, deleted);
after the commit it hands their ids to ``committed`` (a rolled-back transaction's are forgotten). Every way of
booking, moving, cancelling or changing a panel or guests goes through a flush, so the jobs are
derived again whichever page, API or command made the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from scheduler.models import CheckSession, Guest, PanelSeat

KEY = "rc_changed_sessions"


def _touched(objects: Iterable[Any]) -> set[int]:
    found: set[int] = set()
    for obj in objects:
        if isinstance(obj, CheckSession) and obj.id is not None:
            found.add(obj.id)
        elif isinstance(obj, PanelSeat | Guest) and obj.session_id is not None:
            found.add(obj.session_id)
    return found


def watch(factory: async_sessionmaker[AsyncSession], committed: Callable[[set[int]], None]) -> None:
    """Call ``committed(ids)`` after each commit, through ``factory``, that changed these sessions."""
    base: type[Session] = factory.kw.get("sync_session_class") or Session
    watched = type("WatchedSession", (base,), {})

    def after_flush(session: Session, _context: Any) -> None:
        ids = _touched([*session.new, *session.dirty, *session.deleted])
        if ids:
            session.info.setdefault(KEY, set()).update(ids)

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint's release (SQLAlchemy calls this hook for it too): not committed yet
        ids = session.info.pop(KEY, None)
        if ids:
            committed(set(ids))

    def new_transaction(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # a new outermost transaction: what a rolled-back one noted goes
            session.info.pop(KEY, None)

    event.listen(watched, "after_flush", after_flush)
    event.listen(watched, "after_commit", after_commit)
    event.listen(watched, "after_transaction_create", new_transaction)
    factory.configure(sync_session_class=watched)
