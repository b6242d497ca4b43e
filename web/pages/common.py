"""Helpers shared by the pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from remote_check.accounts.access import Permission, Principal, require
from remote_check.errors import DomainError, Message
from web.context import principal_of
from web.inputs import validation_error

M = TypeVar("M", bound=BaseModel)


def signed_in(request: web.Request, permission: Permission | None = None) -> Principal:
    """The page's user; an anonymous visitor is sent to the log-in page, a wrong role gets 403."""
    principal = principal_of(request)
    if principal is None:
        raise DomainError(Message("请先登录", "Please sign in"), 401, "unauthenticated")
    if permission is not None:
        require(principal, permission)
    return principal


def parse_form(model: type[M], data: Mapping[str, Any], labels: Mapping[str, Message]) -> M:
    """A page's form checked by the API's request model ``model``.

    Bad input is the API's 422 (:func:`web.inputs.validation_error`, the same ``details``),
    its message naming each bad field by its label on the form, in both languages: "预算应为数字",
    "Budget must be a number". A refusal of the whole form (no field) is its message alone.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        zh, en = validation_error(exc, "zh"), validation_error(exc, "en")
        texts: dict[str, list[str]] = {"zh": [], "en": []}
        for lang, error in (("zh", zh), ("en", en)):
            for detail in error.details:
                label = labels.get(detail["field"])
                if label is None:
                    texts[lang].append(detail["message"])
                elif lang == "en":
                    texts[lang].append(f"{label.en} {detail['message']}")
                else:
                    texts[lang].append(f"{label.zh}{detail['message']}")
        raise DomainError(
            Message("；".join(texts["zh"]), "; ".join(texts["en"])), 422, "invalid", en.details
        ) from None
