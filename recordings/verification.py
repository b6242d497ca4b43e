"""Verifying a session's recording: each folder against its signed manifest, the manifest against
the place it lies in, and against the manifest digest the audit log recorded when the folder was
finished.

A signature proves that the server made a manifest, not that it made it for this folder: copied
over another session's folders, a valid manifest would still verify. So the manifest names its
session and part (:class:`recordings.integrity.Place`), and the audit log (keyed and anchored
outside the database: ``remote-check audit verify``) holds each folder's digest as it was then:
``recording.stop`` (the part in progress, from the ``recording.start`` before it),
``recording.interrupted`` (a part finalised after a crash) and ``replay.ready`` (the replay).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.events import START, STOP
from recordings.integrity import Finding, Place, Report, verify
from recordings.paths import REPLAY_FOLDER, session_folder_name
from remote_check.audit.models import AuditEntry

INTERRUPTED = "recording.interrupted"
REPLAY_READY = "replay.ready"
SESSION_FOLDER = re.compile(r"session-(\d+)")
PART_FOLDER = re.compile(r"part-\d+")


@dataclass(frozen=True)
class FolderCheck:
    """One folder of a session's recording (``name``: ``part-1``, ``replay``) and what was found."""

    name: str
    path: Path
    report: Report

    @property
    def ok(self) -> bool:
        """Whether the folder is exactly as signed, where it was signed for, as audited."""
        return self.report.ok


async def audited_digests(session: AsyncSession, session_id: int) -> dict[str, str]:
    """The manifest digest the audit log recorded last for each folder of a session's recording."""
    rows = await session.execute(
        select(AuditEntry.action, AuditEntry.details)
        .where(
            AuditEntry.target == f"session:{session_id}",
            AuditEntry.action.in_([START, STOP, INTERRUPTED, REPLAY_READY]),
        )
        .order_by(AuditEntry.seq)
    )
    digests: dict[str, str] = {}
    recording: str | None = None  # the part the last start began
    for action, details in rows:
        folder = Path(str(details.get("folder", ""))).name or None
        digest = details.get("manifest_sha256")
        if action == START:
            recording = folder
        elif action in (STOP, INTERRUPTED) and (folder or recording) and digest:
            digests[str(folder or recording)] = str(digest)
        elif action == REPLAY_READY and digest:
            digests[REPLAY_FOLDER] = str(digest)
    return digests


def _against_audit(report: Report, name: str, audited: Mapping[str, str] | None) -> Report:
    if report.digest is None:
        return report  # no manifest to compare: already named
    if audited is None:
        extra = Finding("no-audit-log", name)
    elif name not in audited:
        extra = Finding("not-audited", name)
    elif audited[name] != report.digest:
        extra = Finding("digest-mismatch", name, audited[name])
    else:
        return report
    return dataclasses.replace(report, findings=(*report.findings, extra))


def check_folder(session_id: int, path: Path, key: bytes, audited: Mapping[str, str] | None) -> FolderCheck:
    """Verify one folder of session ``session_id`` (blocking: call in a thread); ``audited`` from
    :func:`audited_digests` (``None``: the audit log could not be read, which is named)."""
    place = Place(session_folder_name(session_id), path.name)
    report = verify(path, key, place)
    return FolderCheck(path.name, path, _against_audit(report, path.name, audited))


async def check_folders(
    session_id: int, folders: Sequence[Path], key: bytes, audited: Mapping[str, str] | None
) -> list[FolderCheck]:
    """:func:`check_folder` for each folder, in worker threads (hashing reads every byte)."""
    return list(
        await asyncio.gather(*(asyncio.to_thread(check_folder, session_id, f, key, audited) for f in folders))
    )


def session_of(folder: Path) -> tuple[int, bool] | None:
    """For a folder given on the command line: the session it belongs to, and whether it is the
    session's own folder (``session-7``) rather than one of its parts (``session-7/part-1``,
    ``session-7/replay``); ``None`` for a folder outside that layout."""
    folder = folder.resolve()
    if match := SESSION_FOLDER.fullmatch(folder.name):
        return int(match.group(1)), True
    part = PART_FOLDER.fullmatch(folder.name) or folder.name == REPLAY_FOLDER
    if part and (match := SESSION_FOLDER.fullmatch(folder.parent.name)):
        return int(match.group(1)), False
    return None
