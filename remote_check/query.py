"""Values of query strings as the outside world sends them.

A query parameter is either absent or holds a value: ``?city=`` is refused, not read as "any"
(pages drop the blank fields of their filter forms before validating). Dates and times are
ISO 8601 text within years 2000–2099, never numbers read as Unix timestamps.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, WithJsonSchema

from remote_check.errors import Message

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_text(pattern: re.Pattern[str], message: Message) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, (dt.date, dt.datetime)):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(str(message))
        return value

    return check


def _in_range(value: Any) -> Any:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(str(Message("日期超出范围（2000–2099 年）", "is out of range (years 2000–2099)")))
    return value


Day = Annotated[
    dt.date,
    BeforeValidator(
        _iso_text(_ISO_DAY, Message("应为日期，如 2020-06-01", "must be a date such as 2020-06-01"))
    ),
    AfterValidator(_in_range),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^20\d{2}-\d{2}-\d{2}$"}),
]
"""A calendar day, ``2020-06-01``."""

Moment = Annotated[
    AwareDatetime,
    BeforeValidator(
        _iso_text(
            _ISO_TIME,
            Message(
                "应为带时区的时间，如 2020-06-01T09:00:00+08:00",
                "must be a time such as 2020-06-01T09:00:00+08:00",
            ),
        )
    ),
    AfterValidator(_in_range),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": r"^20\d{2}-"}),
]
"""An instant with its time zone, ``2020-06-01T09:00:00+08:00``."""

Text = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
"""A search text: not blank."""
