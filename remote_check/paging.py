"""Paged lists: the bound every ``page`` parameter shares.

A page number is validated with ``Field(ge=1, le=MAX_PAGE)``: beyond it the offset would
overflow the databases' 64-bit integers (a 500), and no one reads page 10,001 of anything.
"""

from __future__ import annotations

MAX_PAGE = 10_000
