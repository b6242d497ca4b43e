"""Heavy work stays off the event loop: the audit export is streamed in batches, not built whole
in memory. (An import's file is read and checked in a child process, and against the database
without the write lock: tests/test_import_bombs.py and tests/test_import_write.py.)"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from remote_check.accounts.models import Role
from remote_check.audit.models import AuditEntry
from remote_check.audit.service import Actor, record
from remote_check.database import transaction
from tests.web_helpers import WebServer
from web.api import audit


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
