"""Filed reports (报省汇总备案): insert-only rows naming stored files by their SHA-256.

A filing is never changed or deleted: the ORM refuses (:func:`_refuse`) and so does the database
(triggers made by migration 0011 on both SQLite and PostgreSQL). A later filing of the same
campaign and kind *supersedes* the earlier one by naming it (``supersedes_id``, unique: a filing is
superseded at most once), so the current filing is the one nobody supersedes, and both are kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from remote_check.database import Base, UTCDateTime
from remote_check.programme.models import enum_column
from remote_check.reports.content import ReportKind


class FilingImmutable(RuntimeError):
    """Something tried to change or delete a filed report."""


class Filing(Base):
    __tablename__ = "report_filings"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("cities.code"), index=True)
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind, "report_kind"))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_size: Mapped[int] = mapped_column(Integer)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column(Integer)
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("report_filings.id"), unique=True)


def _refuse(_mapper: Any, _connection: Any, target: Filing) -> None:
    raise FilingImmutable(f"filed report {target.id} is immutable")


event.listen(Filing, "before_update", _refuse)
event.listen(Filing, "before_delete", _refuse)
