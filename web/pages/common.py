"""Helpers shared by the pages."""

from __future__ import annotations

from aiohttp import web

from remote_check.accounts.access import Permission, Principal, require
from remote_check.errors import DomainError, Message
from web.context import principal_of


def signed_in(request: web.Request, permission: Permission | None = None) -> Principal:
    """The page's user; an anonymous visitor is sent to the log-in page, a wrong role gets 403."""
    principal = principal_of(request)
    if principal is None:
        raise DomainError(Message("请先登录", "Please sign in"), 401, "unauthenticated")
    if permission is not None:
        require(principal, permission)
    return principal


def page_number(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1
