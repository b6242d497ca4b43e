"""Signing in from the web: throttled, argon2 off the event loop, every refusal audited."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from remote_check.accounts.models import User
from remote_check.accounts.service import (
    SignedIn,
    bad_credentials,
    check_password,
    open_web_session,
    record_failed_login,
)
from remote_check.accounts.throttle import LoginThrottle
from remote_check.errors import DomainError, Message
from web.keys import CLOCK, DB, DB_READ, SETTINGS

THROTTLE = web.AppKey("login_throttle", LoginThrottle)


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


async def sign_in_request(request: web.Request, username: str, password: str) -> SignedIn:
    """Check a log-in; refuse with 401 (or 429 after repeated failures) and record the refusal."""
    app = request.app
    throttle = app[THROTTLE]
    now = app[CLOCK].now()
    address = client_address(request)
    wait = throttle.wait(username, address, now)
    if wait is not None:
        minutes = max(1, int(wait / dt.timedelta(minutes=1)) + 1)
        raise DomainError(
            Message(
                f"登录失败次数过多，请 {minutes} 分钟后再试",
                f"Too many failed log-ins; try again in {minutes} min",
            ),
            429,
            "throttled",
        )
    async with app[DB_READ]() as session:
        user = await check_password(session, username, password)
    if user is None:
        throttle.failed(username, address, now)
        async with app[DB]() as session, session.begin():
            await record_failed_login(session, username, address, now=now)
        raise bad_credentials()
    throttle.succeeded(username)
    async with app[DB]() as session, session.begin():
        fresh = await session.get(User, user.id)
        if fresh is None:
            raise bad_credentials()
        return await open_web_session(session, fresh, password, now=now, hours=app[SETTINGS].session_hours)
