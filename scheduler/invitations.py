"""Signed invitation links for the guests of a check session.

A token is ``<guest>.<session>.<nonce>.<mac>``: the guest's id, the session's id, the guest's
current nonce, and an HMAC-SHA256 over the first three parts with a key derived from the
server's secret. Nothing in it is secret; it cannot be altered without the key.

A link carries no expiry of its own: it is valid until the session's *current* end plus a
grace period, checked when the link is opened (:func:`check_expiry`), so moving a session later
does not silently expire links already sent, and moving it earlier shortens them.

Verification tells apart the ways a link fails: altered or forged, expired, revoked (the guest
was revoked or the nonce changed), foreign (a link of another session used on this session's
address), cancelled (the session was cancelled).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from remote_check.errors import DomainError, Message

_KEY_CONTEXT = b"remote-check/guest-invitation/v2"
MEETING_CONTEXT = b"remote-check/meeting-invitation/v1"  # a meeting's personal links
_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")


class Refusal(enum.StrEnum):
    FORGED = "forged"
    EXPIRED = "expired"
    REVOKED = "revoked"
    FOREIGN = "foreign"
    CANCELLED = "cancelled"


REFUSALS: dict[Refusal, tuple[Message, int]] = {
    Refusal.FORGED: (
        Message(
            "链接无效：链接已被改动或不是本系统签发的。请向组织方索取新的链接。",
            "This link is not valid: it was altered or not issued by this system. "
            "Ask the organisers for a new one.",
        ),
        403,
    ),
    Refusal.FOREIGN: (
        Message(
            "此链接属于另一场核查会议，不能用于本会议。",
            "This link belongs to another check session and cannot be used for this one.",
        ),
        403,
    ),
    Refusal.REVOKED: (
        Message(
            "此链接已被组织方撤销。如仍需参会，请联系组织方。",
            "The organisers have withdrawn this link. Contact them if you still need to join.",
        ),
        410,
    ),
    Refusal.EXPIRED: (
        Message(
            "此链接已过期（会议结束后一段时间内有效）。",
            "This link has expired (it is valid until a while after the session ends).",
        ),
        410,
    ),
    Refusal.CANCELLED: (
        Message("该核查会议已取消。", "This check session has been cancelled."),
        410,
    ),
}


class InvitationRefused(DomainError):
    """A link that does not let its holder in, with the reason a guest can understand."""

    def __init__(self, reason: Refusal) -> None:
        message, status = REFUSALS[reason]
        super().__init__(message, status, f"invitation_{reason.value}")
        self.reason = reason


@dataclass(frozen=True)
class Invitation:
    guest_id: int
    session_id: int
    nonce: str


def new_nonce() -> str:
    """A fresh random nonce (32 hex characters); changing it revokes every earlier link."""
    return secrets.token_hex(16)


def expiry_for(session_ends_at: dt.datetime, grace_hours: int) -> dt.datetime:
    """A link is valid until the session's end plus ``grace_hours``, to the second."""
    return (session_ends_at + dt.timedelta(hours=grace_hours)).replace(microsecond=0)


def _key(secret: bytes, context: bytes) -> bytes:
    return hmac.new(secret, context, hashlib.sha256).digest()


def _mac(secret: bytes, payload: str, context: bytes = _KEY_CONTEXT) -> str:
    digest = hmac.new(_key(secret, context), payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(invitation: Invitation, secret: bytes, *, context: bytes = _KEY_CONTEXT) -> str:
    """The token of ``invitation``, signed with ``secret`` (a key per ``context``: a guest's link
    and a meeting's personal link are not interchangeable)."""
    if not re.fullmatch(r"[0-9a-f]{32}", invitation.nonce):
        raise ValueError("a nonce is 32 hex characters")
    payload = f"{invitation.guest_id}.{invitation.session_id}.{invitation.nonce}"
    return f"{payload}.{_mac(secret, payload, context)}"


def decode(token: str, secret: bytes, *, context: bytes = _KEY_CONTEXT) -> Invitation:
    """The invitation inside ``token`` if its signature is right; otherwise refused as forged."""
    match = _TOKEN.match(token)
    if match is None:
        raise InvitationRefused(Refusal.FORGED)
    guest, session, nonce, mac = match.groups()
    payload = f"{guest}.{session}.{nonce}"
    if not hmac.compare_digest(mac, _mac(secret, payload, context)):
        raise InvitationRefused(Refusal.FORGED)
    return Invitation(int(guest), int(session), nonce)


def verify(
    token: str, secret: bytes, *, session_id: int | None = None, context: bytes = _KEY_CONTEXT
) -> Invitation:
    """Check the signature and the session (when the address names one); expiry needs the session."""
    invitation = decode(token, secret, context=context)
    if session_id is not None and invitation.session_id != session_id:
        raise InvitationRefused(Refusal.FOREIGN)
    return invitation


def check_expiry(session_ends_at: dt.datetime, grace_hours: int, *, now: dt.datetime) -> None:
    """Refuse a link at ``now`` if the session (as it now stands) ended more than the grace period ago."""
    if now >= expiry_for(session_ends_at, grace_hours):
        raise InvitationRefused(Refusal.EXPIRED)


def check_guest(
    invitation: Invitation, *, guest_session_id: int | None, nonce: str | None, revoked: bool
) -> None:
    """Refuse a link whose guest is gone, revoked, moved to another session, or has a new nonce."""
    if guest_session_id is not None and guest_session_id != invitation.session_id:
        raise InvitationRefused(Refusal.FOREIGN)
    if (
        guest_session_id is None
        or revoked
        or nonce is None
        or not hmac.compare_digest(nonce, invitation.nonce)
    ):
        raise InvitationRefused(Refusal.REVOKED)


def join_path(token: str) -> str:
    """The guest landing page's address for ``token``."""
    return f"/join/{token}"
