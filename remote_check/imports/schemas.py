"""Request and response shapes of the import API."""

from __future__ import annotations

from pydantic import BaseModel


class ImportQuery(BaseModel):
    """``?dry_run=true`` checks everything and stores nothing."""

    dry_run: bool = False


class ImportResult(BaseModel):
    """What an import stored (or would store, with ``dry_run``)."""

    rows: int
    created: int
    skipped: int
    enterprises_created: int
    enterprises_reused: int
    suppliers_created: int
    suppliers_reused: int
    products_created: int
    products_reused: int
    dry_run: bool
