"""Signing in and out, the caller's own account, and user administration."""

from __future__ import annotations

from remote_check.accounts import service
from remote_check.accounts.access import Permission
from remote_check.accounts.models import User
from remote_check.accounts.schemas import LoginRequest, MeResponse, UserCreateRequest, UserList, UserOut
from remote_check.accounts.service import NewUser, create_user, sign_out
from remote_check.audit.service import Actor
from web.api.registry import Api, Call
from web.context import SESSION_COOKIE, csrf_of, set_session_cookie
from web.keys import CLOCK, PASSWORDS, SETTINGS
from web.signin import sign_in_request

api = Api("accounts")


@api.post("/api/login", summary="Sign in with a user name and password", public=True, rate_limited=True)
async def login(call: Call, body: LoginRequest) -> MeResponse:
    hours = call.request.app[SETTINGS].session_hours
    signed = await sign_in_request(call.request, body.username, body.password)
    me = MeResponse(
        user_id=signed.principal.user_id,
        display_name=signed.principal.display_name,
        role=signed.principal.role,
        city_code=signed.principal.city_code,
        csrf_token=signed.csrf_token,
    )
    call.after.append(lambda response: set_session_cookie(response, call.request, signed.token, hours))
    return me


@api.post("/api/logout", summary="Sign out (ends this browser's session)", status=204)
async def logout(call: Call) -> None:
    token = call.request.cookies.get(SESSION_COOKIE, "")
    async with call.transaction() as session:
        await sign_out(session, token, call.user, now=call.request.app[CLOCK].now())
    call.after.append(lambda response: response.del_cookie(SESSION_COOKIE, path="/"))


@api.get("/api/me", summary="Who is signed in")
async def me(call: Call) -> MeResponse:
    user = call.user
    return MeResponse(
        user_id=user.user_id,
        display_name=user.display_name,
        role=user.role,
        city_code=user.city_code,
        csrf_token=csrf_of(call.request),
    )


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation=user.organisation,
        role=user.role,
        city_code=user.city_code,
        active=user.active,
    )


@api.get("/api/users", summary="List users", permission=Permission.USER_ADMIN)
async def list_users(call: Call) -> UserList:
    async with call.read() as session:
        users = await service.list_users(session)
    return UserList(items=[_user_out(u) for u in users])


@api.post(
    "/api/users", summary="Create a user", permission=Permission.USER_ADMIN, status=201, rate_limited=True
)
async def add_user(call: Call, body: UserCreateRequest) -> UserOut:
    principal = call.user
    hashed = await call.request.app[PASSWORDS].hash(body.password)
    async with call.transaction() as session:
        user = await create_user(
            session,
            NewUser(**body.model_dump()),
            actor=Actor.of(principal),
            now=call.request.app[CLOCK].now(),
            password_hash=hashed,
        )
        return _user_out(user)
