"""Accounts: creating users, signing in and out, and who a session cookie belongs to."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.accounts.models import Role, User, WebSession
from remote_check.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from remote_check.audit.service import Actor, record
from remote_check.errors import Conflict, DomainError, Message, invalid
from remote_check.experts.models import Expert
from remote_check.programme.models import City

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
# A fixed argon2 hash so that a wrong user name costs as much time as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password")


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    role: Role
    password: str
    city_code: str | None = None
    organisation: str = ""
    email: str = ""


async def create_user(
    session: AsyncSession, new: NewUser, *, actor: Actor, now: dt.datetime, password_hash: str | None = None
) -> User:
    """Add a user; refuse a bad name, a short password, a missing or needless city, a taken name.

    ``password_hash`` is an argon2 hash of ``new.password`` made by the caller: the web's password
    pool, or the demo's one hash for every account. Without it, the password is hashed here.
    """
    if not USERNAME.match(new.username):
        raise invalid(
            "用户名只能包含字母、数字和 _ . -，长度 3-64",
            "User names are 3-64 letters, digits or _ . -",
            field="username",
        )
    if len(new.password) < MIN_LENGTH:
        raise invalid(
            f"密码至少 {MIN_LENGTH} 个字符",
            f"Passwords have at least {MIN_LENGTH} characters",
            field="password",
        )
    if new.role == Role.CITY_COORDINATOR and not new.city_code:
        raise invalid("地市协调员必须指定城市", "A city coordinator needs a city", field="city_code")
    if new.role in (Role.PROVINCE_ADMIN, Role.ALLIANCE_STAFF, Role.EXPERT) and new.city_code:
        raise invalid("该角色不属于某个城市", "This role does not belong to a city", field="city_code")
    if new.city_code and await session.get(City, new.city_code) is None:
        raise invalid(
            f"未知城市代码 {new.city_code}", f"Unknown city code {new.city_code}", field="city_code"
        )
    if await session.scalar(select(User.id).where(User.username == new.username)) is not None:
        raise Conflict(Message(f"用户名 {new.username} 已存在", f"User name {new.username} is taken"))
    user = User(
        username=new.username,
        display_name=new.display_name,
        organisation=new.organisation,
        role=new.role,
        city_code=new.city_code,
        email=new.email,
        password_hash=password_hash or await asyncio.to_thread(hash_password, new.password),
        active=True,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        actor,
        "user.create",
        f"user:{user.id}",
        at=now,
        city_code=new.city_code,
        details={"username": new.username, "role": new.role.value},
    )
    return user


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf_token: str
    principal: Principal
    expires_at: dt.datetime


@dataclass(frozen=True)
class Candidate:
    """Who a log-in names: the user (``None`` if nobody has that name) and the hash to check."""

    user_id: int | None
    active: bool
    stored_hash: str


async def candidate(session: AsyncSession, username: str) -> Candidate:
    """The user a log-in names and the hash to check its password against.

    An unknown name gets a fixed hash, so that it costs as much time as a wrong password.
    """
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        return Candidate(None, False, _DUMMY_HASH)
    return Candidate(user.id, user.active, user.password_hash)


async def check_password(session: AsyncSession, username: str, password: str) -> User | None:
    """The active user with this name and password, or ``None`` (the command line and tests;
    the web checks passwords in its own pool, ``web/signin.py``).

    argon2 is deliberately slow (about 0.1 s), so it runs in a thread, never on the event loop.
    """
    named = await candidate(session, username)
    ok = await asyncio.to_thread(verify_password, named.stored_hash, password)
    if not ok or not named.active or named.user_id is None:
        return None
    return await session.get(User, named.user_id)


async def record_failed_login(
    session: AsyncSession, username: str, address: str, *, now: dt.datetime
) -> None:
    """Audit a refused log-in (in its own transaction: the refusal must not roll it back)."""
    city = await session.scalar(select(User.city_code).where(User.username == username))
    await record(
        session,
        Actor(f"login:{username[:60]}"),
        "auth.login_failed",
        f"username:{username[:60]}",
        at=now,
        city_code=city,
        details={"address": address},
    )


async def open_web_session(
    session: AsyncSession, user: User, *, new_hash: str | None, now: dt.datetime, hours: int
) -> SignedIn:
    """Start a signed-in browser session for ``user`` (whose password was just checked);
    ``new_hash`` replaces a hash made with out-of-date parameters."""
    if new_hash is not None:
        user.password_hash = new_hash
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = now + dt.timedelta(hours=hours)
    session.add(
        WebSession(
            token_hash=token_hash(token), user_id=user.id, csrf_token=csrf, created_at=now, expires_at=expires
        )
    )
    principal = await principal_for(session, user)
    await record(
        session,
        Actor(principal.ref, user.city_code),
        "auth.login",
        f"user:{user.id}",
        at=now,
        city_code=user.city_code,
    )
    return SignedIn(token, csrf, principal, expires)


async def sign_in(
    session: AsyncSession, username: str, password: str, *, now: dt.datetime, hours: int
) -> SignedIn:
    """Check the password and open a web session in the caller's transaction (CLI and tests).

    The web app uses :func:`candidate`, :func:`record_failed_login` and :func:`open_web_session`
    itself, so that a refused log-in is still recorded (``web/signin.py``).
    """
    user = await check_password(session, username, password)
    if user is None:
        raise bad_credentials()
    new_hash = None
    if needs_rehash(user.password_hash):
        new_hash = await asyncio.to_thread(hash_password, password)
    return await open_web_session(session, user, new_hash=new_hash, now=now, hours=hours)


def bad_credentials() -> DomainError:
    return DomainError(Message("用户名或密码错误", "Wrong user name or password"), 401, "bad_credentials")


async def principal_for(session: AsyncSession, user: User) -> Principal:
    expert_id = None
    if user.role == Role.EXPERT:
        expert_id = await session.scalar(select(Expert.id).where(Expert.user_id == user.id))
    return Principal(user.id, user.role, user.city_code, user.display_name, expert_id)


_EXPERT_OF_USER = (
    select(Expert.id).where(Expert.user_id == User.id, User.role == Role.EXPERT).limit(1).scalar_subquery()
)
_SIGNED_IN = (
    select(
        WebSession.expires_at,
        WebSession.csrf_token,
        User.id,
        User.role,
        User.city_code,
        User.display_name,
        User.active,
        _EXPERT_OF_USER,
    )
    .join(User, User.id == WebSession.user_id)
    .where(WebSession.token_hash == bindparam("token_hash"))
)  # built once: it runs on every request


async def resolve_session(
    session: AsyncSession, token: str, *, now: dt.datetime
) -> tuple[Principal, str] | None:
    """The principal and CSRF token of a cookie's session, or ``None`` if unknown or expired, or
    if its user is gone or inactive: read afresh on every request (one statement), so that a
    sign-out, a deactivation or a new role takes effect at once."""
    row = (await session.execute(_SIGNED_IN, {"token_hash": token_hash(token)})).first()
    if row is None:
        return None
    expires_at, csrf_token, user_id, role, city_code, display_name, active, expert = row
    if expires_at <= now or not active:
        return None
    return Principal(user_id, role, city_code, display_name, expert), csrf_token


async def sign_out(session: AsyncSession, token: str, principal: Principal, *, now: dt.datetime) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
    await record(
        session,
        Actor.of(principal),
        "auth.logout",
        principal.ref,
        at=now,
        city_code=principal.city_code,
    )


async def list_users(session: AsyncSession) -> list[User]:
    """Every user, in the order they were made."""
    return list((await session.scalars(select(User).order_by(User.id))).all())


async def user_labels(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """``"name (username)"`` of each of the users ``ids`` that exists."""
    if not ids:
        return {}
    rows = (
        await session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    ).all()
    return {uid: f"{name} ({username})" for uid, name, username in rows}
