"""An import holds the write lock only to store: it is checked in a read transaction, during which
other writes go ahead; what changed meanwhile is found under the lock and still refuses (or skips)
everything. Synchronised by the import's own ``while_checking`` hook, not by timing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, record
from remote_check.clock import SHANGHAI
from remote_check.database import make_reader, transaction
from remote_check.errors import DomainError
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.service import ImportSummary
from remote_check.imports.workflow import Databases, import_upload
from remote_check.programme.models import Supplier, VoucherProject
from tests.conftest import Database
from tests.import_files import FOSHAN, csv_file, found, row

NOW = dt.datetime(2020, 4, 10, 9, 0, tzinfo=SHANGHAI)


async def run(
    db: Database, data: bytes, *, while_checking: Callable[[], Awaitable[None]] | None = None, **kw: Any
) -> ImportSummary:
    reader = UploadReader()
    try:
        return await import_upload(
            reader,
            Databases(write=db.factory, read=make_reader(db.engine)),
            "projects.csv",
            data,
            actor=Actor.cli(),
            now=NOW,
            while_checking=while_checking,
            **kw,
        )
    finally:
        await reader.close()


async def actions(db: Database) -> list[str]:
    async with db.factory() as session:
        return list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all())


async def codes(db: Database) -> list[str]:
    async with db.factory() as session:
        return list((await session.scalars(select(VoucherProject.code).order_by(VoucherProject.code))).all())


async def test_other_writes_go_ahead_while_an_import_is_being_checked(db: Database) -> None:
    """On SQLite a write transaction takes the database's one write lock: had the import taken it
    for its checks, this write would wait for the import, which waits for the write."""

    async def meanwhile() -> None:
        async with transaction(db.factory) as session:
            await record(session, Actor.cli(), "test.meanwhile", "thing:1", at=NOW)

    summary = await run(db, csv_file([row(n) for n in range(1, 41)]), while_checking=meanwhile)
    assert summary.created == 40
    assert await actions(db) == ["test.meanwhile", "project.import"]


async def test_a_conflict_found_under_the_write_lock_refuses_the_whole_import(db: Database) -> None:
    async def meanwhile() -> None:  # another import stores T-0002 with other amounts
        await run(db, csv_file([row(2, contract_amount="81000", amount_paid="81000")]))

    with pytest.raises(DomainError) as caught:
        await run(db, csv_file([row(1), row(2), row(3)]), while_checking=meanwhile)
    assert (caught.value.status, caught.value.code) == (422, "import_invalid")
    assert found(caught.value.details) == {(3, "project_code", "exists_different")}
    assert await codes(db) == ["T-0002"]
    assert await actions(db) == ["project.import", "project.import_refused"]


async def test_a_supplier_delisted_while_an_import_is_checked_refuses_it(db: Database) -> None:
    await run(db, csv_file([row(1, FOSHAN)]))

    async def meanwhile() -> None:
        async with transaction(db.factory) as session:
            await session.execute(update(Supplier).values(listed=False))

    with pytest.raises(DomainError) as caught:
        await run(db, csv_file([row(2), row(3, FOSHAN)]), while_checking=meanwhile)
    assert found(caught.value.details) == {(3, "supplier_credit_code", "supplier_delisted")}
    assert await codes(db) == ["T-0001"]


async def test_rows_someone_else_imported_meanwhile_are_skipped(db: Database) -> None:
    data = csv_file([row(1), row(2, FOSHAN)])

    async def meanwhile() -> None:
        await run(db, data)

    summary = await run(db, data, while_checking=meanwhile)
    assert (summary.created, summary.skipped) == (0, 2)
    assert await codes(db) == ["T-0001", "T-0002"]
    async with db.factory() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
    assert [(e.action, e.details["created"], e.details["skipped"]) for e in entries] == [
        ("project.import", 2, 0),
        ("project.import", 0, 2),
    ]
