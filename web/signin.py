"""Signing in from the web: throttled in the database, argon2 in its own pool, every refusal audited.

Order of work for one attempt, cheapest refusal first:

1. a slot in the password pool (``app[PASSWORDS]``), or 429 at once: nothing else is touched;
2. the attempt is claimed on the throttle's counters in a short transaction of its own
   (``accounts/throttle.py``), or 429 with ``Retry-After``;
3. the user's stored hash is read (the database connection is given back before hashing);
4. argon2 in the pool; a wrong password is audited and answered 401;
5. the right one gives its failure back to the throttle and opens the session in one transaction;
   then counters quiet for an hour are deleted.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from remote_check.accounts.models import User
from remote_check.accounts.service import (
    SignedIn,
    bad_credentials,
    candidate,
    open_web_session,
    record_failed_login,
)
from remote_check.accounts.throttle import claim_attempt, forget_quiet_counters, forgive_attempt
from web.keys import CLOCK, DB, DB_READ, PASSWORDS, SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def forwarded_client(peer: str, forwarded_for: list[str], trusted: list[Network]) -> str:
    """The client's address: walk ``X-Forwarded-For`` from the right while the hop we stand on is
    a trusted proxy; the first address not trusted is the client's.

    A client may write anything into the header; only what trusted proxies appended (its right
    end) is believed. An entry that is not an address ends the walk at the last proxy.
    """
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    current = peer
    while _trusted(current, trusted) and hops:
        try:
            current = str(ipaddress.ip_address(hops.pop()))
        except ValueError:
            break
    return current


def _trusted(address: str, trusted: list[Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def client_address(request: web.Request) -> str:
    """The address a request comes from; behind ``trusted_proxies``, the one they forwarded for."""
    peer = request.remote or "unknown"
    proxies = request.app[SETTINGS].trusted_proxies
    if not proxies:
        return peer
    trusted = [ipaddress.ip_network(entry, strict=False) for entry in proxies]
    return forwarded_client(peer, request.headers.getall("X-Forwarded-For", []), trusted)


async def sign_in_request(request: web.Request, username: str, password: str) -> SignedIn:
    """Check a log-in; refuse with 401, or 429 (throttled or the pool full), and audit a refusal."""
    # PostgreSQL can store no NUL; no user name holds one (or U+FFFD), so nobody is named so either
    username = username.replace("\x00", "\ufffd")
    app = request.app
    pool = app[PASSWORDS]
    now = app[CLOCK].now()
    address = client_address(request)
    slot = pool.admit()
    try:
        async with app[DB]() as session, session.begin():
            await claim_attempt(session, username, address, now=now)
        async with app[DB_READ]() as session:
            named = await candidate(session, username)
        right = await pool.verify(slot, named.stored_hash, password)
    finally:
        slot.release()  # unless verify took it: that gives it back when argon2 is done
    if not right or not named.active or named.user_id is None:
        async with app[DB]() as session, session.begin():
            await record_failed_login(session, username, address, now=now)
        raise bad_credentials()
    new_hash = await pool.rehash_if_needed(named.stored_hash, password)
    async with app[DB]() as session, session.begin():
        await forgive_attempt(session, username, address)
        user = await session.get(User, named.user_id)
        if user is None or not user.active:
            raise bad_credentials()
        hours = app[SETTINGS].session_hours
        signed = await open_web_session(session, user, new_hash=new_hash, now=now, hours=hours)
    async with app[DB]() as session, session.begin():
        await forget_quiet_counters(session, now=now)
    return signed
