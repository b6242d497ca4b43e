"""Importing voucher projects into the database, all or nothing, in two steps.

:func:`check` takes a file's validation (from :mod:`remote_check.imports.sandbox`) and checks it
against the database in a *read* transaction: the slow part, and it holds no write lock. If
there is any problem it raises :class:`ImportRefused` (422, code ``import_invalid``) whose
``details`` list every problem. :func:`store` then, in the caller's *write* transaction, reads
again what the check read: unchanged, the checked plan stands; changed (another import or
a bar meanwhile), the plan is made again from what is there now, and any problem refuses the
whole import. It stores every new project with its new enterprises, suppliers and products by
bulk inserts (it only flushes), so the write lock is held for seconds at most, not for the check.

A row whose project code is already stored with the same data is *skipped* (so importing the
same file twice changes nothing); with different data it is a problem. Existing enterprises
and suppliers are reused by credit code, products by supplier and name, but only if the file
describes them as stored.

Every attempt is audited: ``project.import`` (stored), ``project.import_dry_run`` (checked only)
and ``project.import_refused`` (problems found), each with counts and never with row data. A
refusal rolls back the caller's transaction, so the caller records it afterwards in a
transaction of its own with :func:`record_refusal`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.audit.service import Actor, record
from remote_check.clock import local
from remote_check.errors import Conflict, DomainError, Message
from remote_check.imports.plan import Plan, make_plan
from remote_check.imports.rows import Prepared, insert_rows, prepare
from remote_check.imports.sandbox import OffLoop, Upload
from remote_check.imports.stored import Stored, read_stored
from remote_check.imports.validate import Problem


@dataclass(frozen=True)
class ImportSummary:
    """What an import stored (or, with ``dry_run``, would store)."""

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

    def counts(self) -> dict[str, int]:
        """The numbers, for the audit log and the API."""
        return {
            "rows": self.rows,
            "created": self.created,
            "skipped": self.skipped,
            "enterprises_created": self.enterprises_created,
            "enterprises_reused": self.enterprises_reused,
            "suppliers_created": self.suppliers_created,
            "suppliers_reused": self.suppliers_reused,
            "products_created": self.products_created,
            "products_reused": self.products_reused,
        }


class ImportRefused(DomainError):
    """The 422 that carries every problem (both languages) in ``details``, and what the audit needs."""

    def __init__(
        self, problems: Sequence[Problem], *, rows: int, source: str, digest: str, dry_run: bool
    ) -> None:
        count = len(problems)
        super().__init__(
            Message(
                f"导入失败：发现 {count} 个问题，未保存任何数据",
                f"Import refused: {count} problem{'s' if count != 1 else ''} found; nothing was stored",
            ),
            422,
            "import_invalid",
            [p.detail() for p in sorted(problems, key=Problem.sort_key)],
        )
        self.rows = rows
        self.source = source
        self.digest = digest
        self.dry_run = dry_run

    def counts(self) -> dict[str, object]:
        """Rows, problems and problems per code: what the audit log keeps (no row data)."""
        by_code = Counter(d["code"] for d in self.details)
        return {"rows": self.rows, "problems": len(self.details), "by_code": dict(sorted(by_code.items()))}


async def record_refusal(
    session: AsyncSession,
    refused: ImportRefused,
    *,
    actor: Actor,
    now: dt.datetime,
    restrict_city: str | None = None,
) -> None:
    """Audit a refused import (``project.import_refused``) with its counts.

    Call it in a transaction of its own after the import's transaction rolled back.
    """
    await record(
        session,
        actor,
        "project.import_refused",
        f"file:{refused.source}",
        at=now,
        city_code=restrict_city,
        details={
            "file": refused.source,
            "sha256": refused.digest,
            "dry_run": refused.dry_run,
            **refused.counts(),
        },
    )


@dataclass(frozen=True)
class Checked:
    """A file checked against the database, ready to be stored by :func:`store`."""

    upload: Upload
    source: str
    stored: Stored
    plan: Plan
    summary: ImportSummary
    restrict_city: str | None
    today: dt.date
    prepared: Prepared


def _summary(plan: Plan, rows: int, dry_run: bool) -> ImportSummary:
    distinct_ent = {r.enterprise.credit_code for r in plan.new}
    distinct_sup = {r.supplier.credit_code for r in plan.new}
    distinct_prod = {(r.supplier.credit_code, r.product.name) for r in plan.new}
    return ImportSummary(
        rows=rows,
        created=len(plan.new),
        skipped=plan.skipped,
        enterprises_created=len(distinct_ent - plan.enterprises.keys()),
        enterprises_reused=len(distinct_ent & plan.enterprises.keys()),
        suppliers_created=len(distinct_sup - plan.suppliers.keys()),
        suppliers_reused=len(distinct_sup & plan.suppliers.keys()),
        products_created=len(distinct_prod - plan.products.keys()),
        products_reused=len(distinct_prod & plan.products.keys()),
        dry_run=dry_run,
    )


def _refused(checked: Upload, problems: Sequence[Problem], source: str, dry_run: bool) -> ImportRefused:
    return ImportRefused(
        problems, rows=checked.validation.rows, source=source, digest=checked.digest, dry_run=dry_run
    )


async def check(
    session: AsyncSession,
    upload: Upload,
    *,
    source: str,
    now: dt.datetime,
    off_loop: OffLoop,
    restrict_city: str | None = None,
    dry_run: bool = False,
) -> Checked:
    """Check a file's validation against the database (reads only: run it in a read transaction)
    and prepare the rows to insert; ``off_loop`` runs the CPU-bound parts.

    ``restrict_city`` (a city coordinator's city) makes rows of other cities problems. On any
    problem :class:`ImportRefused` is raised (audit it with :func:`record_refusal`). ``now`` is
    the import time.
    """
    validation = upload.validation
    stored = await read_stored(session, validation.records)
    today = local(now).date()
    plan = await off_loop(
        lambda: make_plan(
            validation.records, validation.problems, stored, today=today, restrict_city=restrict_city
        )
    )
    if plan.problems:
        raise _refused(upload, plan.problems, source, dry_run)
    dialect = session.get_bind().dialect
    prepared = await off_loop(lambda: prepare(plan, dialect, now))
    summary = _summary(plan, validation.rows, dry_run)
    return Checked(upload, source, stored, plan, summary, restrict_city, today, prepared)


def _details(checked: Checked, summary: ImportSummary) -> dict[str, object]:
    return {"file": checked.source, "sha256": checked.upload.digest, **summary.counts()}


async def record_dry_run(session: AsyncSession, checked: Checked, *, actor: Actor, now: dt.datetime) -> None:
    """Audit a dry run that found nothing wrong (``project.import_dry_run``), with its counts."""
    await record(
        session,
        actor,
        "project.import_dry_run",
        f"file:{checked.source}",
        at=now,
        city_code=checked.restrict_city,
        details=_details(checked, checked.summary),
    )


async def store(
    session: AsyncSession, checked: Checked, *, actor: Actor, now: dt.datetime, off_loop: OffLoop
) -> ImportSummary:
    """Store a checked file in the caller's write transaction, with its ``project.import`` audit entry.

    What the check read is read again first (enterprises, suppliers and products ``FOR SHARE``
    on PostgreSQL); if it changed, the plan is made again, and any problem now raises
    :class:`ImportRefused` before anything is written. ``now`` is the import time.
    """
    records = checked.upload.validation.records
    stored = await read_stored(session, records, lock=True)
    plan, summary, prepared = checked.plan, checked.summary, checked.prepared
    if stored != checked.stored:
        today, city = checked.today, checked.restrict_city
        plan = await off_loop(lambda: make_plan(records, [], stored, today=today, restrict_city=city))
        if plan.problems:
            raise _refused(checked.upload, plan.problems, checked.source, False)
        summary = _summary(plan, checked.upload.validation.rows, False)
        dialect = session.get_bind().dialect
        prepared = await off_loop(lambda: prepare(plan, dialect, now))
    try:
        await insert_rows(session, plan, prepared)
    except IntegrityError:
        raise Conflict(
            Message(
                "数据已被同时导入的其他文件改变，请重试",
                "Another import changed the data meanwhile; try again",
            )
        ) from None
    await record(
        session,
        actor,
        "project.import",
        f"file:{checked.source}",
        at=now,
        city_code=checked.restrict_city,
        details=_details(checked, summary),
    )
    return summary
