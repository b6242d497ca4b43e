"""Per-request facts the middlewares establish: language, who is calling, their CSRF token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from remote_check.accounts.access import Permission, Principal, allowed

LANGS = ("zh", "en")
LANG_COOKIE = "rc_lang"
SESSION_COOKIE = "rc_session"


LANG = web.RequestKey("lang", str)
PRINCIPAL = web.RequestKey("principal", Principal)
CSRF = web.RequestKey("csrf", str)


def lang_of(request: web.Request) -> str:
    lang: str = request.get(LANG, "zh")
    return lang


def principal_of(request: web.Request) -> Principal | None:
    return request.get(PRINCIPAL)


def csrf_of(request: web.Request) -> str:
    token: str = request.get(CSRF, "")
    return token


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def template_context(request: web.Request) -> dict[str, Any]:
    """What every template may use: the language and ``tr(zh, en)``, who is signed in, the CSRF token."""
    lang = lang_of(request)

    def tr(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    me = principal_of(request)

    def can(permission: str) -> bool:
        return me is not None and allowed(me, Permission(permission))

    return {
        "lang": lang,
        "tr": tr,
        "can": can,
        "me": me,
        "csrf_token": csrf_of(request),
        "request": request,
    }


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str, hours: int) -> None:
    """Set the signed-in browser's session cookie (HTTP only, same site, secure over TLS)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=hours * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.secure,
        path="/",
    )
