"""Reading what a request sends, for API endpoints and pages alike: JSON bodies
(:func:`read_body`), query strings (:func:`read_query`), and a pydantic refusal turned into a
422 naming every bad field in the user's language (:func:`validation_error`)."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from remote_check.errors import DomainError, Message


def validation_error(exc: ValidationError, lang: str) -> DomainError:
    """A 422 naming every bad field, in the user's language."""
    fields = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        fields.append({"field": where, "message": _field_message(error, lang)})
    names = ", ".join(f["field"] for f in fields)
    return DomainError(Message(f"输入有误：{names}", f"Invalid input: {names}"), 422, "invalid", fields)


_MESSAGES = {
    "missing": ("必填", "is required"),
    "int_parsing": ("应为整数", "must be a whole number"),
    "decimal_parsing": ("应为数字", "must be a number"),
    "string_too_short": ("太短", "is too short"),
    "string_too_long": ("太长", "is too long"),
    "string_pattern_mismatch": ("格式不正确", "is not in the expected format"),
    "greater_than": ("数值太小", "is too small"),
    "greater_than_equal": ("数值太小", "is too small"),
    "less_than": ("数值太大", "is too large"),
    "less_than_equal": ("数值太大", "is too large"),
    "datetime_parsing": ("时间格式不正确", "is not a valid time"),
    "date_from_datetime_parsing": ("日期格式不正确", "is not a valid date"),
    "enum": ("不是允许的取值", "is not one of the allowed values"),
    "extra_forbidden": ("是未知字段", "is not a known field"),
    "timezone_aware": ("必须带时区", "must carry a time zone"),
}


def _field_message(error: Any, lang: str) -> str:
    zh, en = _MESSAGES.get(error["type"], ("取值无效", "is not valid"))
    if error["type"] == "value_error" and "ctx" in error:
        text = str(error["ctx"].get("error", ""))
        if " / " in text:
            zh, en = text.split(" / ", 1)
        else:
            zh = en = text
    return en if lang == "en" else zh


MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
JSON_TYPES = ("application/json",)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw`` (brackets inside strings don't count),
    found without parsing, so that a ``[[[[…`` bomb never reaches the parser."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(1 if c in b"[{" else -1 for c in brackets), default=0)


async def read_body(request: web.Request, model: type[BaseModel], lang: str) -> BaseModel:
    """The one reader of JSON request bodies: the right type (else 415), a bounded size (413)
    and depth (400), valid JSON (400), then the model's own checks (422)."""
    raw = await request.read()
    if raw and request.content_type not in JSON_TYPES:
        raise DomainError(
            Message(
                "请求体应为 JSON（application/json）", "The request body must be JSON (application/json)"
            ),
            415,
            "unsupported_media_type",
        )
    if len(raw) > MAX_JSON_BYTES:
        raise DomainError(Message("请求体太大", "The request body is too large"), 413, "too_large")
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise DomainError(Message("请求体嵌套过深", "The request body is nested too deeply"), 400, "bad_json")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise DomainError(
            Message("请求体不是有效的 JSON", "The request body is not valid JSON"), 400, "bad_json"
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, lang) from None


def read_query(request: web.Request, model: type[BaseModel], lang: str) -> BaseModel:
    """The query string as ``model``; a refusal names every bad parameter (422)."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_error(exc, lang) from None
