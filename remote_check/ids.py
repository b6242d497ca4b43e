"""Row ids as the outside world sends them: positive, and within the database's 64-bit range."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def in_range(text: str) -> bool:
    """Whether a string of digits from a URL can name a row at all."""
    return text.isdigit() and 1 <= int(text) <= MAX_ID
