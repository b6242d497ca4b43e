"""Middlewares: errors in the user's language, language choice, who is calling, CSRF."""

from __future__ import annotations

import hmac
import logging
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from remote_check.accounts.service import resolve_session
from remote_check.errors import DomainError, Message
from remote_check.ids import in_range
from web.context import (
    CSRF,
    LANG,
    LANG_COOKIE,
    LANGS,
    PRINCIPAL,
    SESSION_COOKIE,
    csrf_of,
    is_api,
    lang_of,
    principal_of,
    template_context,
)
from web.keys import CLOCK, DB_READ

log = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
HTTP_MESSAGES = {
    404: Message("页面或接口不存在", "Not found"),
    405: Message("不支持此请求方法", "Method not allowed"),
    413: Message("上传的文件太大", "The upload is too large"),
}


def error_response(request: web.Request, error: DomainError) -> web.StreamResponse:
    lang = lang_of(request)
    if is_api(request):
        return web.json_response(
            {"error": {"code": error.code, "message": error.message.in_lang(lang), "fields": error.details}},
            status=error.status,
            headers=error.headers,
        )
    if error.status == 401:
        raise web.HTTPSeeOther(f"/login?next={quote(str(request.rel_url), safe='')}")
    response = aiohttp_jinja2.render_template(
        "error.html",
        request,
        {**template_context(request), "message": error.message.in_lang(lang), "status": error.status},
        status=error.status,
    )
    response.headers.update(error.headers)
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain refusals become 4xx with a clear message; nothing ever shows a stack trace."""
    try:
        return await handler(request)
    except DomainError as exc:
        return error_response(request, exc)
    except web.HTTPException as exc:
        if exc.status in HTTP_MESSAGES and exc.status >= 400:
            return error_response(request, DomainError(HTTP_MESSAGES[exc.status], exc.status, "http"))
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            request,
            DomainError(
                Message("服务器内部错误，已记录", "Internal error; it has been logged"), 500, "internal"
            ),
        )


@web.middleware
async def ids_in_range(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An id in the path beyond the database's range names nothing: 404, not a database error."""
    for name, value in request.match_info.items():
        if (name == "id" or name.endswith("_id")) and value.isdigit() and not in_range(value):
            raise DomainError(HTTP_MESSAGES[404], 404, "not_found")
    return await handler(request)


@web.middleware
async def language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """zh-CN first; ``?lang=en`` switches (and is remembered in a cookie)."""
    chosen = request.query.get("lang")
    lang = chosen if chosen in LANGS else request.cookies.get(LANG_COOKIE, "zh")
    request[LANG] = lang if lang in LANGS else "zh"
    response = await handler(request)
    if chosen in LANGS and not response.prepared:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


@web.middleware
async def identity(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with request.app[DB_READ]() as session:
            found = await resolve_session(session, token, now=request.app[CLOCK].now())
        if found is not None:
            request[PRINCIPAL], request[CSRF] = found
    return await handler(request)


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unsafe requests from a signed-in browser carry its CSRF token; cross-site ones are refused."""
    if request.method in UNSAFE:
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            raise DomainError(Message("跨站请求被拒绝", "Cross-site request refused"), 403, "csrf")
        if principal_of(request) is not None:
            sent = request.headers.get("X-CSRF-Token", "")
            if not sent and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                sent = str(form.get("csrf_token", ""))
            if not hmac.compare_digest(sent, csrf_of(request)):
                raise DomainError(
                    Message("请求已过期，请刷新页面后重试", "The form has expired; reload and try again"),
                    403,
                    "csrf",
                )
    return await handler(request)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response, streamed ones included, carries these headers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
