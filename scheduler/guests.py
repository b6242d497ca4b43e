"""Guests of a check session (enterprise, supplier, observer) and their invitation links.

A link is a bearer credential: it is shown to the session's managers right after it is issued
(invite, renew) and otherwise only on request through :func:`view_link`, which is audited
(``guest.link_view``); reading a session never shows links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, DomainError, Message, NotFound, invalid
from remote_check.programme.models import Enterprise, Supplier, VoucherProject
from scheduler.invitations import (
    Invitation,
    InvitationRefused,
    Refusal,
    check_expiry,
    check_guest,
    expiry_for,
    join_path,
    new_nonce,
    sign,
    verify,
)
from scheduler.models import CheckSession, Guest, GuestKind, SessionStatus
from scheduler.rules import load_session, must_not_be_over


@dataclass(frozen=True)
class NewGuest:
    kind: GuestKind
    name: str
    organisation: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Link:
    href: str  # /join/<token>, or the absolute address
    expires_at: dt.datetime


@dataclass(frozen=True)
class Opened:
    """What a valid link shows its holder."""

    guest: Guest
    session: CheckSession
    project: VoucherProject
    enterprise: Enterprise
    supplier: Supplier
    invitation: Invitation


def link_for(guest: Guest, check: CheckSession, secret: bytes, grace_hours: int) -> Link:
    """The guest's current link; valid until the session's end plus the grace period (``expires_at``
    is that instant as the session now stands: the link follows the session if it moves)."""
    token = sign(Invitation(guest.id, check.id, guest.link_nonce), secret)
    return Link(join_path(token), expiry_for(check.ends_at, grace_hours))


async def add_guest(
    session: AsyncSession, principal: Principal, session_id: int, new: NewGuest, *, now: dt.datetime
) -> tuple[Guest, CheckSession]:
    """Invite a person; the organisation defaults to the project's enterprise or supplier."""
    check, parties = await load_session(session, principal, session_id, lock=True)
    must_not_be_over(check)
    name = new.name.strip()
    if not name:
        raise invalid("请填写姓名", "A name is required", field="name")
    await _refuse_twice(session, check, new.email.strip(), new.phone.strip())
    organisation = new.organisation.strip()
    if not organisation:
        if new.kind == GuestKind.ENTERPRISE:
            organisation = parties.enterprise.name
        elif new.kind == GuestKind.SUPPLIER:
            organisation = parties.supplier.name
        else:
            raise invalid("观察员须填写单位", "An observer needs an organisation", field="organisation")
    guest = Guest(
        session_id=check.id,
        kind=new.kind,
        organisation=organisation,
        name=name,
        email=new.email.strip(),
        phone=new.phone.strip(),
        link_nonce=new_nonce(),
        revoked=False,
    )
    session.add(guest)
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "guest.add",
        f"guest:{guest.id}",
        at=now,
        city_code=check.city_code,
        details={"session": check.id, "kind": new.kind.value, "organisation": organisation, "name": name},
    )
    return guest, check


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


async def _refuse_twice(session: AsyncSession, check: CheckSession, email: str, phone: str) -> None:
    """Refuse (409) a person already invited to ``check``: the same email (any case) or phone
    (its digits), revoked or not (a revoked guest is given a new link instead)."""
    if not email and not _digits(phone):
        return
    guests = (await session.scalars(select(Guest).where(Guest.session_id == check.id))).all()
    for guest in guests:
        if email and guest.email.casefold() == email.casefold():
            same_zh, same_en, field = "邮箱", "email", "email"
        elif _digits(phone) and _digits(guest.phone) == _digits(phone):
            same_zh, same_en, field = "电话", "phone", "phone"
        else:
            continue
        raise DomainError(
            Message(
                f"该嘉宾已受邀参加本次会议（{guest.organisation}·{guest.name}，{same_zh}相同）；"
                "如需新的链接，请对其使用“重新签发”",
                f"This person is already invited to this session ({guest.organisation} · {guest.name}, "
                f"same {same_en}); give them a new link instead",
            ),
            409,
            "already_invited",
            [{"field": field, "guest_id": str(guest.id)}],
        )


async def _guest_of(session: AsyncSession, check: CheckSession, guest_id: int) -> Guest:
    guest = await session.scalar(
        select(Guest).where(Guest.id == guest_id, Guest.session_id == check.id).with_for_update()
    )
    if guest is None:
        raise NotFound("参会嘉宾", "Guest")
    return guest


async def revoke_guest(
    session: AsyncSession, principal: Principal, session_id: int, guest_id: int, *, now: dt.datetime
) -> tuple[Guest, CheckSession]:
    """Withdraw a guest's invitation: every link issued to them stops working."""
    check, _ = await load_session(session, principal, session_id)
    guest = await _guest_of(session, check, guest_id)
    guest.revoked = True
    guest.link_nonce = new_nonce()
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "guest.revoke",
        f"guest:{guest.id}",
        at=now,
        city_code=check.city_code,
        details={"session": check.id},
    )
    return guest, check


async def renew_link(
    session: AsyncSession, principal: Principal, session_id: int, guest_id: int, *, now: dt.datetime
) -> tuple[Guest, CheckSession]:
    """Issue a guest a new link (for instance after the old one leaked); older links stop working."""
    check, _ = await load_session(session, principal, session_id)
    must_not_be_over(check)
    guest = await _guest_of(session, check, guest_id)
    guest.link_nonce = new_nonce()
    guest.revoked = False
    await session.flush()
    await record(
        session,
        Actor.of(principal),
        "guest.renew_link",
        f"guest:{guest.id}",
        at=now,
        city_code=check.city_code,
        details={"session": check.id},
    )
    return guest, check


async def view_link(
    session: AsyncSession, principal: Principal, session_id: int, guest_id: int, *, now: dt.datetime
) -> tuple[Guest, CheckSession]:
    """Let a manager of the session see a guest's current link again; recorded as ``guest.link_view``.

    Refused (409) for a revoked guest (issue a new link instead) or a cancelled session.
    """
    check, _ = await load_session(session, principal, session_id)
    guest = await _guest_of(session, check, guest_id)
    if guest.revoked:
        raise Conflict(
            Message(
                "该嘉宾的链接已撤销，如需参会请重新签发",
                "This guest's link has been withdrawn; issue a new one if they still need to join",
            )
        )
    if check.status == SessionStatus.CANCELLED:
        raise Conflict(Message("该核查会议已取消", "This check session has been cancelled"))
    await record(
        session,
        Actor.of(principal),
        "guest.link_view",
        f"guest:{guest.id}",
        at=now,
        city_code=check.city_code,
        details={"session": check.id},
    )
    return guest, check


async def valid_link(
    session: AsyncSession,
    token: str,
    secret: bytes,
    *,
    now: dt.datetime,
    grace_hours: int,
    session_id: int | None = None,
) -> tuple[Invitation, Guest, CheckSession]:
    """The guest and session of a link that still opens; :class:`InvitationRefused` saying why
    not: altered, foreign, revoked, cancelled, expired (``grace_hours`` after the session's end)."""
    invitation = verify(token, secret, session_id=session_id)
    guest = await session.get(Guest, invitation.guest_id)
    check_guest(
        invitation,
        guest_session_id=guest.session_id if guest else None,
        nonce=guest.link_nonce if guest else None,
        revoked=guest.revoked if guest else True,
    )
    assert guest is not None
    check = await session.get(CheckSession, guest.session_id)
    assert check is not None
    if check.status == SessionStatus.CANCELLED:
        raise InvitationRefused(Refusal.CANCELLED)
    check_expiry(check.ends_at, grace_hours, now=now)
    return invitation, guest, check


async def open_invitation(
    session: AsyncSession,
    token: str,
    secret: bytes,
    *,
    now: dt.datetime,
    grace_hours: int,
    session_id: int | None = None,
) -> Opened:
    """Check a link as its holder opens it and record the visit; refusals say exactly why.

    The link expires ``grace_hours`` after the session's end as it stands now (it follows moves).
    """
    invitation, guest, check = await valid_link(
        session, token, secret, now=now, grace_hours=grace_hours, session_id=session_id
    )
    project = await session.get(VoucherProject, check.project_id)
    assert project is not None
    enterprise = await session.get(Enterprise, project.enterprise_id)
    supplier = await session.get(Supplier, project.supplier_id)
    assert enterprise is not None
    assert supplier is not None
    await record(
        session,
        Actor(f"guest:{guest.id}", check.city_code),
        "guest.open_link",
        f"session:{check.id}",
        at=now,
        city_code=check.city_code,
    )
    return Opened(guest, check, project, enterprise, supplier, invitation)
