"""One import, from the uploaded file to the database, each step owning what it needs.

1. The file is read and validated by a child process (:class:`UploadReader`): no transaction.
2. It is checked against the database in a *read* transaction, which never takes SQLite's write
   lock nor blocks anyone's writes (:func:`~remote_check.imports.service.check`).
3. It is stored in a *write* transaction that holds the lock only to re-read what the check
   read and to insert (:func:`~remote_check.imports.service.store`); a dry run writes only its
   audit entry.

A refusal, at the check or at the store, rolls back everything; it is then audited in a
transaction of its own. The web API, the upload page and ``remote-check import`` all import
through :func:`import_upload`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from remote_check.accounts.access import Principal, ScopeKind, project_scope
from remote_check.audit.service import Actor
from remote_check.database import transaction
from remote_check.errors import DomainError
from remote_check.imports.sandbox import UploadReader
from remote_check.imports.service import (
    ImportRefused,
    ImportSummary,
    check,
    record_dry_run,
    record_refusal,
    store,
)


@dataclass(frozen=True)
class Databases:
    """Where an import writes (``write``: sessions that may take the write lock) and reads."""

    write: async_sessionmaker[AsyncSession]
    read: async_sessionmaker[AsyncSession]


async def import_upload(
    reader: UploadReader,
    databases: Databases,
    filename: str,
    source: bytes | IO[bytes],
    *,
    actor: Actor,
    now: dt.datetime,
    restrict_city: str | None = None,
    dry_run: bool = False,
    while_checking: Callable[[], Awaitable[None]] | None = None,
) -> ImportSummary:
    """Import ``source`` (XLSX or CSV) all or nothing, or with ``dry_run`` only check it.

    ``restrict_city`` (a city coordinator's city) makes rows of other cities problems. Raises
    :class:`ImportRefused` (422, every problem, audited) or another :class:`DomainError` for a
    file that cannot be read (413, 422) or an import that collided with another (409).
    ``while_checking`` is awaited inside the read transaction once the database checks are done
    (tests use it to act while an import is being checked).
    """
    upload = await reader.read(filename, source)
    try:
        async with transaction(databases.read) as session:
            checked = await check(
                session,
                upload,
                source=filename,
                now=now,
                off_loop=reader.off_loop,
                restrict_city=restrict_city,
                dry_run=dry_run,
            )
            if while_checking is not None:
                await while_checking()
        async with transaction(databases.write) as session:
            if dry_run:
                await record_dry_run(session, checked, actor=actor, now=now)
                return checked.summary
            return await store(session, checked, actor=actor, now=now, off_loop=reader.off_loop)
    except ImportRefused as refused:
        async with transaction(databases.write) as session:
            await record_refusal(session, refused, actor=actor, now=now, restrict_city=restrict_city)
        raise


async def import_as(
    reader: UploadReader,
    databases: Databases,
    filename: str,
    source: IO[bytes],
    principal: Principal,
    *,
    now: dt.datetime,
    dry_run: bool,
) -> ImportSummary:
    """:func:`import_upload` on behalf of ``principal``: a city coordinator may import only their
    own city's rows."""
    scope = project_scope(principal)
    return await import_upload(
        reader,
        databases,
        filename,
        source,
        actor=Actor.of(principal),
        now=now,
        restrict_city=scope.city_code if scope.kind == ScopeKind.CITY else None,
        dry_run=dry_run,
    )


def localised(error: DomainError, lang: str) -> DomainError:
    """An import refusal whose ``details`` keep only the user's language:
    ``row``, ``field``, ``column``, ``code`` and ``message`` for every problem."""
    if error.code != "import_invalid":
        return error
    en = lang == "en"
    fields = [
        {
            "row": d["row"],
            "field": d["field"],
            "column": d["column_en"] if en else d["column_zh"],
            "code": d["code"],
            "message": d["en"] if en else d["zh"],
        }
        for d in error.details
    ]
    return DomainError(error.message, error.status, error.code, fields)
