"""Signed, expiring invitation links: each way a link fails is told apart."""

from __future__ import annotations

import datetime as dt

import pytest

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role
from remote_check.clock import FixedClock
from remote_check.database import transaction
from scheduler.guests import NewGuest, add_guest, link_for, open_invitation, renew_link, revoke_guest
from scheduler.invitations import (
    Invitation,
    InvitationRefused,
    Refusal,
    check_expiry,
    decode,
    expiry_for,
    new_nonce,
    sign,
    verify,
)
from scheduler.models import GuestKind
from scheduler.service import NewSession, book_session, cancel_session, move_session
from tests.conftest import Database
from tests.scheduling_factories import add_experts, add_principal, add_project, add_supplier, local

SECRET = b"k" * 32
GRACE = 2


def _token(guest: int = 3, session: int = 5, nonce: str = "") -> str:
    return sign(Invitation(guest, session, nonce or "ab" * 16), SECRET)


def _refusal(token: str, session_id: int | None = None) -> Refusal:
    with pytest.raises(InvitationRefused) as refused:
        verify(token, SECRET, session_id=session_id)
    return refused.value.reason


def test_a_signed_link_reads_back() -> None:
    token = _token()
    invitation = verify(token, SECRET, session_id=5)
    assert invitation == Invitation(3, 5, "ab" * 16)
    assert len(new_nonce()) == 32
    assert new_nonce() != new_nonce()


@pytest.mark.parametrize("part", [0, 1, 2, 3])
def test_changing_any_part_of_the_link_is_refused_as_forged(part: int) -> None:
    pieces = _token().split(".")
    original = pieces[part]
    pieces[part] = original[:-1] + ("1" if original[-1] != "1" else "2")
    assert _refusal(".".join(pieces)) == Refusal.FORGED


GARBAGE = ["", "abc", "3.5.x.y", "3.5." + "ab" * 16, "3.5." + "ab" * 16 + ".1586577600"]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_is_refused_as_forged(token: str) -> None:
    assert _refusal(token) == Refusal.FORGED


def test_another_servers_key_is_refused_as_forged() -> None:
    other = sign(Invitation(3, 5, "ab" * 16), b"z" * 32)
    assert _refusal(other) == Refusal.FORGED
    with pytest.raises(InvitationRefused):
        decode(other, SECRET)


def test_expiry_is_checked_against_the_sessions_end_on_the_test_clock() -> None:
    clock = FixedClock(local(11, 12, 59))
    check_expiry(local(11, 11), GRACE, now=clock.now())  # the session ends at 11:00, grace 2 hours
    clock.advance(dt.timedelta(minutes=1))
    with pytest.raises(InvitationRefused) as refused:
        check_expiry(local(11, 11), GRACE, now=clock.now())
    assert refused.value.reason == Refusal.EXPIRED
    assert refused.value.status == 410
    assert "过期" in refused.value.message.zh


def test_a_link_of_another_session_is_foreign() -> None:
    assert _refusal(_token(session=5), session_id=6) == Refusal.FOREIGN
    assert InvitationRefused(Refusal.FOREIGN).status == 403


def test_expiry_is_session_end_plus_grace() -> None:
    assert expiry_for(local(11, 10, 0), 2) == local(11, 12)


# --- with the database ---------------------------------------------------------------------


async def _guest_world(db: Database, clock: FixedClock) -> tuple[Principal, int, int, str]:
    """A booked session 10:00-11:00 on 11 April with one enterprise guest; returns its link token."""
    async with transaction(db.factory) as session:
        coordinator = await add_principal(session, "gz.coord", Role.CITY_COORDINATOR, "4401")
        supplier = await add_supplier(session)
        project = await add_project(session, supplier)
        experts = await add_experts(session, 3)
        check = await book_session(
            session,
            coordinator,
            NewSession(project.id, local(11, 10), local(11, 11), experts, confirmed_off_hours=True),
            now=clock.now(),
        )
        guest, check = await add_guest(
            session, coordinator, check.id, NewGuest(GuestKind.ENTERPRISE, "陈经理"), now=clock.now()
        )
        token = link_for(guest, check, SECRET, GRACE).href.removeprefix("/join/")
    return coordinator, check.id, guest.id, token


async def _open(db: Database, token: str, now: dt.datetime, session_id: int | None = None) -> Refusal | str:
    try:
        async with transaction(db.factory) as session:
            opened = await open_invitation(
                session, token, SECRET, now=now, grace_hours=GRACE, session_id=session_id
            )
            return f"{opened.guest.organisation}/{opened.guest.name}"
    except InvitationRefused as refused:
        return refused.reason


async def test_a_guest_link_opens_until_the_grace_period_ends(db: Database, clock: FixedClock) -> None:
    _, session_id, _, token = await _guest_world(db, clock)
    opened = await _open(db, token, clock.now(), session_id)
    assert not isinstance(opened, Refusal)  # (a Refusal is a str too)
    assert opened.endswith("/陈经理")
    clock.set(local(11, 12, 59))
    assert not isinstance(await _open(db, token, clock.now()), Refusal)
    clock.advance(dt.timedelta(minutes=1))
    assert await _open(db, token, clock.now()) == Refusal.EXPIRED


async def test_revoked_and_renewed_links(db: Database, clock: FixedClock) -> None:
    coordinator, session_id, guest_id, token = await _guest_world(db, clock)
    async with transaction(db.factory) as session:
        guest, check = await renew_link(session, coordinator, session_id, guest_id, now=clock.now())
        fresh = link_for(guest, check, SECRET, GRACE).href.removeprefix("/join/")
    assert await _open(db, token, clock.now()) == Refusal.REVOKED  # nonce changed
    assert not isinstance(await _open(db, fresh, clock.now()), Refusal)
    async with transaction(db.factory) as session:
        await revoke_guest(session, coordinator, session_id, guest_id, now=clock.now())
    assert await _open(db, fresh, clock.now()) == Refusal.REVOKED


async def test_a_link_on_another_sessions_address_is_foreign(db: Database, clock: FixedClock) -> None:
    _, session_id, _, token = await _guest_world(db, clock)
    assert await _open(db, token, clock.now(), session_id + 1) == Refusal.FOREIGN


async def test_a_link_follows_its_session_moved_later(db: Database, clock: FixedClock) -> None:
    coordinator, session_id, _, token = await _guest_world(db, clock)  # 11 April 10:00-11:00
    async with transaction(db.factory) as session:
        await move_session(
            session,
            coordinator,
            session_id,
            local(12, 14),
            local(12, 15),
            now=clock.now(),
            confirmed_off_hours=True,
        )
    clock.set(local(11, 13, 30))  # past the old end + grace: the link sent before the move still opens
    assert not isinstance(await _open(db, token, clock.now(), session_id), Refusal)
    clock.set(local(12, 16, 59))
    assert not isinstance(await _open(db, token, clock.now()), Refusal)
    clock.advance(dt.timedelta(minutes=1))  # the new end + grace
    assert await _open(db, token, clock.now()) == Refusal.EXPIRED


async def test_cancelled_or_earlier_moved_sessions_close_the_link(db: Database, clock: FixedClock) -> None:
    coordinator, session_id, _, token = await _guest_world(db, clock)
    async with transaction(db.factory) as session:
        await move_session(
            session,
            coordinator,
            session_id,
            local(10, 14),
            local(10, 15),
            now=clock.now(),
            confirmed_off_hours=True,
        )
    clock.set(local(10, 17, 30))  # past the new end + grace, before the link's own expiry
    assert await _open(db, token, clock.now()) == Refusal.EXPIRED
    clock.set(local(10, 13))
    async with transaction(db.factory) as session:
        await cancel_session(session, coordinator, session_id, now=clock.now())
    assert await _open(db, token, clock.now()) == Refusal.CANCELLED
