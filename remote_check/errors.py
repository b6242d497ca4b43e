"""Errors the domain raises, each with a message in Chinese and in English.

The web layer turns them into 4xx responses in the user's language; the command line
prints both.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """A user-facing message in both of the interface's languages."""

    zh: str
    en: str

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass
class DomainError(Exception):
    """A request the domain refuses. ``status`` is the HTTP status the web layer answers with,
    ``headers`` any it must carry (``Retry-After`` on a 429), ``extra`` JSON-ready members
    added to the API's error body (a refused booking's ``suggestions``)."""

    message: Message
    status: int = 400
    code: str = "invalid"
    details: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    def __init__(self, what_zh: str, what_en: str) -> None:
        super().__init__(Message(f"{what_zh}不存在", f"{what_en} not found"), 404, "not_found")


class Forbidden(DomainError):
    def __init__(self, message: Message | None = None) -> None:
        super().__init__(message or Message("无权访问", "Access denied"), 403, "forbidden")


class Conflict(DomainError):
    def __init__(self, message: Message, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message, 409, "conflict", details or [])


def invalid(zh: str, en: str, **detail: str) -> DomainError:
    """A 400/422-style refusal of bad input."""
    return DomainError(Message(zh, en), 422, "invalid", [detail] if detail else [])
