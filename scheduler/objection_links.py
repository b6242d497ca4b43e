"""Signed, expiring objection links (异议) for a project's enterprise or supplier, and the files they
may attach (PDF, PNG, JPEG; the type read from the content, not the name).

A token is ``<publication>.<project>.<e|s>.<yyyymmdd>.<mac>``: the publication, the project, the
party (enterprise or supplier), the last day objections are taken (China time), and an HMAC-SHA256
over the first four parts with a key derived from the server's secret. The day is checked when the
link is used, against the publication's own last day too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from remote_check.clock import SHANGHAI
from remote_check.errors import DomainError, Message
from remote_check.outcomes.sanction_models import PartyKind

_KEY_CONTEXT = b"remote-check/objection-link/v1"
_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([es])\.(\d{8})\.([A-Za-z0-9_-]{43})$")
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class ObjectionLink:
    publication_id: int
    project_id: int
    party: PartyKind
    last_day: dt.date


def _mac(secret: bytes, payload: str) -> str:
    key = hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(link: ObjectionLink, secret: bytes) -> str:
    """The token of ``link``."""
    party = "e" if link.party == PartyKind.ENTERPRISE else "s"
    payload = f"{link.publication_id}.{link.project_id}.{party}.{link.last_day:%Y%m%d}"
    return f"{payload}.{_mac(secret, payload)}"


def refused(zh: str, en: str, status: int, code: str) -> DomainError:
    return DomainError(Message(zh, en), status, code)


def verify(token: str, secret: bytes, *, now: dt.datetime) -> ObjectionLink:
    """The link inside ``token``: 403 if altered or forged, 410 once its last day is over."""
    match = _TOKEN.match(token)
    if match is None or not hmac.compare_digest(match.group(5), _mac(secret, token.rsplit(".", 1)[0])):
        raise refused(
            "链接无效：链接已被改动或不是本系统签发的。",
            "This link is not valid: it was altered or not issued by this system.",
            403,
            "objection_forged",
        )
    publication, project, party, day = match.groups()[:4]
    last_day = dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=SHANGHAI).date()
    link = ObjectionLink(
        int(publication), int(project), PartyKind.ENTERPRISE if party == "e" else PartyKind.SUPPLIER, last_day
    )
    check_in_time(link.last_day, now=now)
    return link


def check_in_time(last_day: dt.date, *, now: dt.datetime) -> None:
    """410 once ``last_day`` (China time) is over."""
    if now.astimezone(SHANGHAI).date() > last_day:
        raise refused(
            f"异议期已于 {last_day.isoformat()} 结束，不再受理异议。",
            f"Objections closed on {last_day.isoformat()}; no more are taken.",
            410,
            "objection_late",
        )


def file_type(name: str, content: bytes) -> str:
    """The media type of an attached file read from its first bytes; 400 for another type, 413 if too big."""
    if len(content) > MAX_FILE_BYTES:
        raise refused(
            f"文件“{name}”超过 {MAX_FILE_BYTES // (1024 * 1024)} MB",
            f"File {name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
            413,
            "file_too_large",
        )
    for magic, media_type in TYPES.items():
        if content.startswith(magic):
            return media_type
    raise refused(
        f"文件“{name}”不是 PDF、PNG 或 JPEG 文件（按文件内容判断）",
        f"File {name} is not a PDF, PNG or JPEG file (judged by its content)",
        400,
        "bad_file",
    )
