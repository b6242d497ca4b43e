"""Slowing down password guessing with growing delays, in the database, shared by every process.

Three counters of failed log-ins, each with growing delays rather than a lock:

* ``addr``: every name tried from one client address. Bounds one machine spraying passwords over
  many accounts. Loose (20 free failures), since an office behind one NAT shares an address.
* ``pair``: one user name from one address. Bounds one machine guessing one account: after 3 free
  failures it waits 1 s, 2 s, 4 s … up to 5 minutes. Only that address's failures feed it, so an
  attacker elsewhere cannot slow the account's owner with it.
* ``name``: one user name from every address. Bounds a guesser spread over many addresses. Since
  anyone can feed it, it could lock the owner out, so it never refuses an attempt that is within its
  own address's free failures for that name (its ``pair`` count is at most 3). So the owner,
  signing in from an address that has not failed three times on that account, always gets a
  password check, whatever others do. A guesser spread over many addresses gets 3 free guesses per
  address, then its addresses share one slow queue.

Why this and not a lock: a lock on a name lets anyone lock out a coordinator with five wrong
passwords; a lock on an address blocks everyone behind a proxy. The address is the proxy's unless
``trusted_proxies`` names it (``web/signin.py``).

Every attempt is claimed *before* its password check: one statement per counter
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, the same on SQLite and PostgreSQL) counts it as a
failure if its delay has passed and writes the attempt's token into ``claim``; the token returned
tells the attempt whether it was the one let through. All three counters change in one short
transaction, rolled back if any refuses, so a refused attempt counts nowhere and 200 concurrent
attempts get exactly as many checks as the counters allow. A log-in that then succeeds gives its
failure back (``addr`` and ``name``) and clears its ``pair``. A counter starts again after a quiet
hour, and such rows are deleted after each successful log-in.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.models import LoginThrottleRow
from remote_check.database import UTCDateTime
from remote_check.errors import DomainError, Message

QUIET = dt.timedelta(hours=1)  # a counter with no failure for this long starts again
KEY_LENGTH = 160


@dataclass(frozen=True)
class Rule:
    """``free`` failures without delay, then ``first``, doubling at each failure, at most ``cap``."""

    free: int
    first: dt.timedelta = dt.timedelta(seconds=1)
    cap: dt.timedelta = dt.timedelta(minutes=5)

    def delay_after(self, failures: int) -> dt.timedelta:
        """How long the next attempt waits after ``failures`` failures in a row."""
        if failures < self.free:
            return dt.timedelta(0)
        delay: dt.timedelta = self.first * 2 ** (failures - self.free)
        return min(self.cap, delay)

    def steps(self) -> range:
        """The failure counts whose delay is below the cap (beyond them, the cap)."""
        doublings = math.ceil(math.log2(self.cap / self.first)) if self.cap > self.first else 0
        return range(self.free, self.free + doublings)


ADDRESS = Rule(free=20)
PAIR = Rule(free=3)
NAME = Rule(free=10, cap=dt.timedelta(minutes=1))


def name_key(username: str) -> str:
    return username.lower()[:64]


def keys(username: str, address: str) -> list[tuple[str, str, Rule]]:
    """The counters of an attempt, in the order every transaction takes them (no deadlocks)."""
    name = name_key(username)
    return [
        ("addr", address[:KEY_LENGTH], ADDRESS),
        ("pair", f"{address} {name}"[:KEY_LENGTH], PAIR),
        ("name", name, NAME),
    ]


class Throttled(DomainError):
    """Too many failed log-ins: wait (429 with ``Retry-After``)."""

    def __init__(self, wait: dt.timedelta) -> None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        self.retry_after = seconds
        super().__init__(
            Message(
                f"登录失败次数过多，请 {_spoken(seconds, 'zh')}后再试",
                f"Too many failed log-ins; try again in {_spoken(seconds, 'en')}",
            ),
            429,
            "throttled",
            headers={"Retry-After": str(seconds)},
        )


def _spoken(seconds: int, lang: str) -> str:
    if seconds < 60:
        return f"{seconds} 秒" if lang == "zh" else f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} 分钟" if lang == "zh" else f"{minutes} min"


def _at(instant: dt.datetime) -> ColumnElement[dt.datetime]:
    return literal(instant, UTCDateTime())


def _next_allowed(rule: Rule, failures: ColumnElement[int], now: dt.datetime) -> ColumnElement[Any]:
    """``now`` plus the delay after ``failures`` (a SQL expression), as a ladder of bound instants."""
    ladder = [(failures < rule.free, _at(now))]
    ladder += [(failures == n, _at(now + rule.delay_after(n))) for n in rule.steps()]
    return case(*ladder, else_=_at(now + rule.cap))


def _claim_statement(
    dialect: str, kind: str, key: str, rule: Rule, now: dt.datetime, token: str, *, force: bool
) -> Any:
    c = LoginThrottleRow
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # a wait never outlasts the rule's cap from now: a row written by a clock ahead of this one (a
    # clock set back, another process's) would otherwise hold the name or address for as long
    waited: ColumnElement[bool] = (c.next_allowed_at <= _at(now)) | (c.next_allowed_at > _at(now + rule.cap))
    admitted: ColumnElement[bool] = literal(True) if force else waited
    counted = case((c.last_failure_at < _at(now - QUIET), 1), else_=c.failures + 1)
    statement = insert(LoginThrottleRow).values(
        kind=kind,
        key=key,
        failures=1,
        last_failure_at=now,
        next_allowed_at=now + rule.delay_after(1),
        claim=token,
    )
    return statement.on_conflict_do_update(
        index_elements=[c.kind, c.key],
        set_={
            "failures": case((admitted, counted), else_=c.failures),
            "last_failure_at": case((admitted, _at(now)), else_=c.last_failure_at),
            "next_allowed_at": case((admitted, _next_allowed(rule, counted, now)), else_=c.next_allowed_at),
            "claim": case((admitted, literal(token)), else_=c.claim),
        },
    ).returning(c.failures, c.next_allowed_at, c.claim)


async def claim_attempt(session: AsyncSession, username: str, address: str, *, now: dt.datetime) -> None:
    """Count this attempt as a failure on every counter, or raise :class:`Throttled`.

    Call it in a transaction of its own, before the password check; :class:`Throttled` must roll
    it back (``async with session.begin()`` does), so that a refused attempt counts nowhere.
    """
    dialect = session.get_bind().dialect.name
    token = secrets.token_hex(16)
    waits: list[dt.timedelta] = []
    pair_failures = 0
    for kind, key, rule in keys(username, address):
        force = kind == "name" and pair_failures <= PAIR.free
        row = (
            await session.execute(_claim_statement(dialect, kind, key, rule, now, token, force=force))
        ).one()
        failures, next_allowed, claim = row
        if claim != token:
            waits.append(next_allowed - now)
        elif kind == "pair":
            pair_failures = failures
    if waits:
        raise Throttled(max(waits))


async def forgive_attempt(session: AsyncSession, username: str, address: str) -> None:
    """The claimed attempt was the right password: give its failure back and clear its pair."""
    c = LoginThrottleRow
    for kind, key, _rule in keys(username, address):
        where = and_(c.kind == kind, c.key == key)
        if kind == "pair":
            await session.execute(delete(LoginThrottleRow).where(where))
        else:
            fewer = case((c.failures > 0, c.failures - 1), else_=0)
            await session.execute(update(LoginThrottleRow).where(where).values(failures=fewer))


async def forget_quiet_counters(session: AsyncSession, *, now: dt.datetime) -> None:
    """Delete the counters quiet for an hour (they would start again anyway).

    In a transaction of its own: it may lock any row, so it must hold no other (no lock cycles).
    """
    await session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.last_failure_at < now - QUIET))
