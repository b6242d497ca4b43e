"""Talking to the real server as its users do: signing in, then calling pages and the API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from remote_check.accounts.models import Role
from remote_check.accounts.service import NewUser, create_user
from remote_check.audit.service import Actor
from remote_check.clock import FixedClock
from remote_check.database import transaction

PASSWORD = "correct-horse-battery"


@dataclass
class Browser:
    """A cookie-keeping client, signed in or not."""

    server: TestServer
    session: ClientSession
    csrf: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def request(self, method: str, path: str, **kw: Any) -> ClientResponse:
        headers = dict(kw.pop("headers", {}))
        if self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        return await self.session.request(
            method, self.url(path), headers=headers, allow_redirects=False, **kw
        )

    async def get(self, path: str, **kw: Any) -> ClientResponse:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> ClientResponse:
        return await self.request("POST", path, **kw)

    async def patch(self, path: str, **kw: Any) -> ClientResponse:
        return await self.request("PATCH", path, **kw)

    async def close(self) -> None:
        await self.session.close()


@dataclass
class WebServer:
    test_server: Any
    db: Any
    clock: FixedClock
    browsers: list[Browser] = field(default_factory=list)

    async def add_user(
        self,
        username: str,
        role: Role,
        city_code: str | None = None,
        display_name: str = "",
        password: str = PASSWORD,
    ) -> int:
        async with transaction(self.db.factory) as session:
            user = await create_user(
                session,
                NewUser(username, display_name or username, role, password, city_code),
                actor=Actor.cli(),
                now=self.clock.now(),
            )
            return user.id

    def browser(self) -> Browser:
        b = Browser(self.test_server, ClientSession(cookie_jar=CookieJar(unsafe=True)))
        self.browsers.append(b)
        return b

    async def signed_in(self, username: str, password: str = PASSWORD) -> Browser:
        b = self.browser()
        response = await b.post("/api/login", json={"username": username, "password": password})
        assert response.status == 200, await response.text()
        b.csrf = (await response.json())["csrf_token"]
        return b

    async def close(self) -> None:
        for b in self.browsers:
            await b.close()


def csrf_from_html(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]*)"', html)
    return match.group(1) if match else ""
