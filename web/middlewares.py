"""Middlewares: errors in the user's language, language choice, who is calling, forms, CSRF, headers."""

from __future__ import annotations

import hmac
import logging
from http import HTTPStatus
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
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
from web.keys import CLOCK, DB_ONE_READ

log = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
HTTP_MESSAGES = {
    400: Message("请求格式错误", "Bad request"),
    404: Message("页面或接口不存在", "Not found"),
    405: Message("不支持此请求方法", "Method not allowed"),
    413: Message("上传的文件太大", "The upload is too large"),
    415: Message("不支持此内容类型", "Unsupported content type"),
    429: Message("请求太频繁，请稍后再试", "Too many requests; try again later"),
}
OTHER_ERROR = Message("请求无法处理", "The request could not be handled")
# aiohttp's own refusals whose headers the answer keeps
KEPT_HEADERS = ("Allow", "Retry-After")


def error_json(
    request: web.Request, error: DomainError, headers: dict[str, str] | None = None
) -> web.Response:
    """``{error: {code, message, fields}}``; every field names its own ``message`` too."""
    message = error.message.in_lang(lang_of(request))
    fields = [{"message": message, **detail} for detail in error.details]
    return web.json_response(
        {"error": {"code": error.code, "message": message, "fields": fields, **error.extra}},
        status=error.status,
        headers=headers,
    )


def error_response(
    request: web.Request, error: DomainError, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    """The one shape of every 4xx/5xx: ``{error: {code, message, fields}}`` in the API, a page elsewhere."""
    headers = {**error.headers, **(headers or {})}
    if is_api(request):
        return error_json(request, error, headers)
    message = error.message.in_lang(lang_of(request))
    if error.status == 401:
        raise web.HTTPSeeOther(f"/login?next={quote(str(request.rel_url), safe='')}")
    response = aiohttp_jinja2.render_template(
        "error.html",
        request,
        {**template_context(request), "message": message, "status": error.status},
        status=error.status,
    )
    response.headers.update(headers)
    return response


def http_error(exc: web.HTTPException) -> DomainError:
    """aiohttp's own refusal (no route, wrong method, too large…) as a refusal of ours."""
    try:
        code = HTTPStatus(exc.status).name.lower()
    except ValueError:
        code = "http"
    return DomainError(HTTP_MESSAGES.get(exc.status, OTHER_ERROR), exc.status, code)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain refusals become 4xx with a clear message; nothing ever shows a stack trace."""
    try:
        return await handler(request)
    except DomainError as exc:
        return error_response(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kept = {name: exc.headers[name] for name in KEPT_HEADERS if name in exc.headers}
        return error_response(request, http_error(exc), kept)
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
        async with request.app[DB_ONE_READ]() as session:
            found = await resolve_session(session, token, now=request.app[CLOCK].now())
        if found is not None:
            request[PRINCIPAL], request[CSRF] = found
    return await handler(request)


@web.middleware
async def forms(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read a posted form once, here: a malformed one (a control character in a part's name, a
    broken boundary) is a 400, not an error deep in a handler. Later ``request.post()`` calls get it."""
    if (
        request.method in UNSAFE
        and request.content_type in FORM_TYPES
        and request.match_info.http_exception is None
    ):
        try:
            await request.post()
        except (HttpProcessingError, ValueError, RuntimeError, TypeError) as exc:
            log.info("malformed form on %s %s: %s", request.method, request.path, exc)
            raise DomainError(
                Message("表单数据格式错误，无法读取", "The form data is malformed and cannot be read"),
                400,
                "bad_form",
            ) from None
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


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script (nor style): page data travels in data-* attributes
        "style-src 'self'",
        "img-src 'self' data: blob:",  # stills and QR codes
        "media-src 'self' blob:",  # the rooms' live streams and the replay's files
        "connect-src 'self'",  # fetch and the rooms' WebSockets (same origin, ws: or wss:)
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
SERVER_NAME = "RemoteCheck"  # aiohttp would name itself and its version


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response, streamed ones included, carries these headers;
    HSTS only on a response served over TLS (a browser ignores it over plain HTTP anyway)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    response.headers["Server"] = SERVER_NAME
