"""Heavy work stays off the event loop: an import's row checks run in a worker thread without
holding the database's write lock, and the audit export is streamed in batches, not built whole
in memory."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import sqlite3
from typing import Any

import pytest
from sqlalchemy import select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, record
from remote_check.database import transaction
from remote_check.imports import service as imports
from remote_check.imports.readers import Table
from remote_check.imports.validate import Validation, validate
from tests.conftest import Database
from tests.import_files import csv_file, row
from tests.web_helpers import WebServer
from web.api import audit

NOW = dt.datetime(2020, 4, 10, 1, 0, tzinfo=dt.UTC)


async def test_import_rows_are_checked_in_a_worker_thread_before_any_lock(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real ``validate`` runs, watched: which thread runs it, and whether another
    connection could take SQLite's write lock meanwhile."""
    seen: list[tuple[bool, bool]] = []
    path = db.url.split("///", 1)[1] if db.kind == "sqlite" else ""

    def watched(table: Table) -> Validation:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        free = True
        if path:
            probe = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:
                free = False
            finally:
                probe.close()
        seen.append((on_loop, free))
        return validate(table)

    monkeypatch.setattr(imports, "validate", watched)
    async with transaction(db.factory) as session:
        summary = await imports.import_file(
            session, "rows.csv", csv_file([row(1), row(2)]), actor=Actor.cli(), now=NOW, dry_run=True
        )
    assert summary.rows == 2
    assert seen == [(False, True)]


async def _entries(server: WebServer, count: int) -> None:
    async with transaction(server.db.factory) as session:
        for n in range(count):
            await record(session, Actor.cli(), "test.bulk", f"thing:{n}", at=server.clock.now())


def _rows(body: bytes) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_the_audit_export_is_streamed_in_batches_and_holds_what_it_recorded(
    server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "EXPORT_BATCH", 2)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    await _entries(server, 7)
    admin = await server.signed_in("admin")

    export = await admin.get("/api/audit/export.csv?action=test")
    body = await export.read()

    assert export.status == 200
    assert export.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in export.headers
    assert export.headers["X-Content-Type-Options"] == "nosniff"
    assert export.content_type == "text/csv"
    assert body.startswith("\ufeff".encode())
    rows = _rows(body)
    assert [r["target"] for r in rows] == [f"thing:{n}" for n in range(7)]
    async with server.db.factory() as session:
        stored = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()))).first()
    assert stored is not None
    assert stored.action == "audit.export"
    assert stored.details == {"filters": {"action": "test"}, "rows": 7}

    everything = _rows(await (await admin.get("/api/audit/export.csv")).read())
    assert [int(r["seq"]) for r in everything] == list(range(1, int(everything[-1]["seq"]) + 1))
    assert everything[-1]["action"] == "audit.export"  # the first export, not this one


async def test_an_export_with_nothing_to_show_is_a_header_alone(server: WebServer) -> None:
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    export = await admin.get("/api/audit/export.csv?action=nothing.like.this")
    assert export.status == 200
    assert (await export.read()).decode("utf-8-sig").splitlines() == [",".join(audit.CSV_COLUMNS)]
