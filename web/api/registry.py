"""Declaring API endpoints from typed handlers.

A handler is ``async def h(call: Call, body: SomeRequest, query: SomeQuery) -> SomeResponse``;
``body`` and ``query`` are optional. The registry reads the annotations to validate input,
serialise output and describe the endpoint in the OpenAPI document, so the document and
the server cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Permission, Principal, require
from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError, Message
from web.inputs import read_body, read_query

Handler = Callable[..., Awaitable[Any]]


@dataclass
class Call:
    """What a handler gets: the request, who is calling, and the app's resources."""

    request: web.Request
    principal: Principal | None
    after: list[Callable[[web.StreamResponse], None]] = field(default_factory=list)

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise DomainError(Message("请先登录", "Please sign in"), 401, "unauthenticated")
        return self.principal

    @property
    def lang(self) -> str:
        from web.context import lang_of

        return lang_of(self.request)

    def path_int(self, name: str) -> int:
        return int(self.request.match_info[name])

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The view's one transaction: commit if the block succeeds, roll back if it raises."""
        from web.keys import DB

        async with self.request.app[DB]() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads (it never waits for SQLite's write lock)."""
        from web.keys import DB_READ

        async with self.request.app[DB_READ]() as session:
            yield session


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    name: str
    summary: str
    permission: Permission | None
    public: bool
    status: int
    body_model: type[BaseModel] | None
    query_model: type[BaseModel] | None
    response_model: type[BaseModel] | None
    tags: list[str] = field(default_factory=list)
    produces: str = "application/json"
    upload_field: str | None = None
    rate_limited: bool = False


class Api:
    """A set of endpoints; each domain module has one, the app factory mounts them all."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        permission: Permission | None = None,
        public: bool = False,
        status: int = 200,
        produces: str = "application/json",
        upload_field: str | None = None,
        rate_limited: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint. ``produces`` names a non-JSON answer (``text/csv``); ``upload_field``
        a multipart file field the handler reads itself; ``rate_limited`` that it may answer 429 with
        ``Retry-After``."""

        def decorate(handler: Handler) -> Handler:
            hints = get_type_hints(handler)
            returned = hints.get("return")
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    name=handler.__name__,
                    summary=summary,
                    permission=permission,
                    public=public,
                    status=status,
                    body_model=hints.get("body"),
                    query_model=hints.get("query"),
                    response_model=returned
                    if inspect.isclass(returned) and issubclass(returned, BaseModel)
                    else None,
                    tags=[self.tag],
                    produces=produces,
                    upload_field=upload_field,
                    rate_limited=rate_limited,
                )
            )
            return handler

        return decorate

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)


def in_local_time(value: Any) -> Any:
    """``value`` with every datetime in it moved to China Standard Time, so that every time
    the API answers with reads ``2020-06-01T09:30:00+08:00`` (one offset, never ``Z``)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(SHANGHAI)
    if isinstance(value, BaseModel):
        changed = {name: in_local_time(getattr(value, name)) for name in type(value).model_fields}
        return value.model_copy(update=changed)
    if isinstance(value, list):
        return [in_local_time(item) for item in value]
    if isinstance(value, tuple):
        return tuple(in_local_time(item) for item in value)
    if isinstance(value, dict):
        return {key: in_local_time(item) for key, item in value.items()}
    return value


def mount(app: web.Application, api: Api, principal_of: Callable[[web.Request], Principal | None]) -> None:
    """Add ``api``'s endpoints to ``app``'s router."""
    for endpoint in api.endpoints:
        app.router.add_route(
            endpoint.method, endpoint.path, _wrap(endpoint, principal_of), name=f"api.{endpoint.name}"
        )


def _wrap(endpoint: Endpoint, principal_of: Callable[[web.Request], Principal | None]) -> Handler:
    async def view(request: web.Request) -> web.StreamResponse:
        call = Call(request, principal_of(request))
        if not endpoint.public:
            principal = call.user
            if endpoint.permission is not None:
                require(principal, endpoint.permission)
        kwargs: dict[str, Any] = {}
        if endpoint.body_model is not None:
            kwargs["body"] = await read_body(request, endpoint.body_model, call.lang)
        if endpoint.query_model is not None:
            kwargs["query"] = read_query(request, endpoint.query_model, call.lang)
        result = await endpoint.handler(call, **kwargs)
        response: web.StreamResponse
        if isinstance(result, web.StreamResponse):
            response = result
        elif result is None:
            response = web.Response(status=204)
        else:
            response = web.json_response(text=in_local_time(result).model_dump_json(), status=endpoint.status)
        for hook in call.after:
            hook(response)
        return response

    view.__name__ = endpoint.name
    return view
