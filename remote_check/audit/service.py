"""Writing to and checking the audit log.

:func:`record` is called inside the caller's transaction, so a change and its audit entry
commit or roll back together. The head row is locked first, so appends never fork the chain.
Entries are hashed with the audit key the session was made with
(:func:`remote_check.database.make_sessionmaker`); :func:`verify_log` checks the chain with it and
the database against the signed checkpoints kept outside it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from remote_check.accounts.access import Principal
from remote_check.audit.anchor import CheckpointFile
from remote_check.audit.chain import ChainEntry, Finding, entry_hash, verify
from remote_check.audit.checkpoints import check
from remote_check.audit.models import AuditEntry, AuditHead
from remote_check.database import AUDIT_KEY


@dataclass(frozen=True)
class Actor:
    """Who did something: ``user:7``, ``guest:3``, ``cli`` or ``system``, and their city scope."""

    ref: str
    city_code: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """A signed-in user, with their city."""
        return cls(principal.ref, principal.city_code)

    @classmethod
    def cli(cls) -> Actor:
        return cls("cli")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: str,
    *,
    at: dt.datetime,
    city_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (``action`` such as ``project.import`` or ``recording.view``).

    The entry's city is ``city_code`` when given (the city of the thing acted on), else the actor's.
    """
    city_code = city_code if city_code is not None else actor.city_code
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())).scalar_one()
    payload = _plain(details or {})
    seq = head.seq + 1
    digest = entry_hash(
        session_key(session),
        seq=seq,
        at=at,
        actor=actor.ref,
        city_code=city_code,
        action=action,
        target=target,
        details=payload,
        prev_hash=head.hash,
    )
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor.ref,
        city_code=city_code,
        action=action,
        target=target,
        details=payload,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    await session.flush()
    return entry


def session_key(session: AsyncSession) -> bytes:
    """The audit key ``session`` was made with; appending without one is a programming error."""
    key = session.info.get(AUDIT_KEY)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError(
            "this session has no audit key: make it with make_sessionmaker(engine, audit_key=...)"
        )
    return key


def _plain(value: Any) -> Any:
    """JSON-safe copy (Decimal and dates as strings) so the stored details hash as written."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("no floats in the audit log")
    return str(value)


async def verify_log(
    session: AsyncSession,
    key: bytes | None = None,
    checkpoints: CheckpointFile | None = None,
    batch: int = 5000,
) -> list[Finding]:
    """Read the whole log in ``seq`` order and return every break in the keyed chain (``key``: by
    default the session's), and, given the ``checkpoints``, every disagreement with them."""
    key = key if key is not None else session_key(session)
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one()
    result = await session.stream_scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    )
    entries = [
        ChainEntry(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            city_code=e.city_code,
            action=e.action,
            target=e.target,
            details=e.details,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        async for e in result
    ]
    findings = verify(entries, head.seq, head.hash, key)
    if checkpoints is not None:
        lines = await asyncio.to_thread(checkpoints.lines)
        findings += check(lines, key, {e.seq: e.hash for e in entries}, len(entries))
    return findings
