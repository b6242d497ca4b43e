"""What a killed server left: recording parts still marked ``RECORDING`` at start, finalised.

Run once when the server starts, before its rooms take calls (:func:`recover`). For every such
part the folder keeps the files as they survived (Matroska written as it goes plays up to its last
cluster); it gets its ``index.json`` if the recorder had none written (rebuilt from the file names
``<participant>-<source>.mkv``) and a signed manifest of what is there. The part becomes
``INTERRUPTED`` with the manifest's SHA-256, its check session ``INTERRUPTED``, the audit log gets
``recording.interrupted`` and the session's replay is queued. A call that goes on records a new part
on the same session clock; its stop queues the replay again, which then joins the parts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from recordings.integrity import Part, manifest_digest, write_manifest_async
from recordings.models import PartState, RecordingPart
from recordings.paths import inside, session_folder_name
from recordings.service import queue_replay
from remote_check.audit.service import Actor, record
from scheduler.models import CheckSession, SessionStatus

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"  # as media.recorder writes it
SOURCES = {"camera": "video", "screen": "video", "microphone": "audio"}
MEDIA_SUFFIX = ".mkv"


@dataclass(frozen=True)
class Recovered:
    """One part finalised by :func:`recover`."""

    session_id: int
    number: int
    folder: Path
    manifest_sha256: str | None


def _entry(path: Path) -> dict[str, str] | None:
    """The index entry of a file named ``<participant>-<source>.mkv``; ``None`` for other files."""
    participant, _, source = path.stem.rpartition("-")
    if path.suffix != MEDIA_SUFFIX or not participant or source not in SOURCES:
        return None
    return {
        "name": path.name,
        "participant": participant,
        "person": "",
        "source": source,
        "kind": SOURCES[source],
    }


def ensure_index(
    folder: Path, session: str, started_at: dt.datetime, ended_at: dt.datetime
) -> dict[str, Any]:
    """Make sure ``folder`` has an index naming every media file in it: the recorder's, with any
    file it had not listed yet added, or one rebuilt from the file names. Blocking: call in a thread."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / INDEX_NAME
    try:
        index = json.loads(path.read_text("utf-8"))
        if not isinstance(index, dict) or not isinstance(index.get("files"), list):
            raise ValueError("not an index")
    except (OSError, ValueError):
        index = {"session": session, "started_at": started_at.isoformat(), "files": []}
    listed = {entry.get("name") for entry in index["files"] if isinstance(entry, dict)}
    found = [e for p in sorted(folder.iterdir()) if (e := _entry(p)) is not None]
    index["files"].extend(e for e in found if e["name"] not in listed)
    if not index.get("ended_at"):
        index["ended_at"] = ended_at.isoformat()
    index["interrupted"] = True
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)
    return index


async def _finalise(root: Path, part: RecordingPart, now: dt.datetime, key: bytes) -> str:
    """Index and sign one interrupted part's folder; the manifest's SHA-256."""
    folder = inside(root, part.folder)
    name = session_folder_name(part.session_id)
    index = await asyncio.to_thread(ensure_index, folder, name, part.started_at, now)
    span = Part(part.number, part.started_at, now)
    media = {e["name"] for e in index["files"] if isinstance(e, dict) and (folder / str(e["name"])).is_file()}
    await write_manifest_async(folder, name, now, key, dict.fromkeys(media, span))
    return await asyncio.to_thread(manifest_digest, folder)


async def recover(
    factory: async_sessionmaker[AsyncSession], root: Path, key: bytes, now: dt.datetime
) -> list[Recovered]:
    """Finalise every part left ``RECORDING`` (see the module docstring); ``key`` is the manifest
    key (:func:`~recordings.integrity.manifest_key`). The replays it queues are rendered once the
    renderer is woken (it scans the queue when it starts)."""
    async with factory() as session:
        parts = list(
            await session.scalars(
                select(RecordingPart)
                .where(RecordingPart.state == PartState.RECORDING)
                .order_by(RecordingPart.session_id, RecordingPart.number)
            )
        )
    done: list[Recovered] = []
    for part in parts:
        try:
            digest: str | None = await _finalise(root, part, now, key)
        except (OSError, ValueError):  # a folder that cannot be read must not stop the server
            log.exception("recording part %s of session %s: no manifest", part.number, part.session_id)
            digest = None
        async with factory() as session, session.begin():
            row = await session.get(RecordingPart, part.id, with_for_update=True)
            if row is None or row.state != PartState.RECORDING:
                continue
            row.state = PartState.INTERRUPTED
            row.stopped_at = now
            row.manifest_sha256 = digest
            check = await session.get(CheckSession, row.session_id, with_for_update=True)
            if check is not None:
                check.status = SessionStatus.INTERRUPTED
            await record(
                session,
                Actor.system(),
                "recording.interrupted",
                f"session:{row.session_id}",
                at=now,
                city_code=check.city_code if check is not None else None,
                details={"folder": row.folder, "manifest_sha256": digest or ""},
            )
            await session.flush()
            still = await session.scalar(
                select(RecordingPart.id).where(
                    RecordingPart.session_id == row.session_id, RecordingPart.state == PartState.RECORDING
                )
            )
            if still is None:
                await queue_replay(session, row.session_id, now=now)
        log.warning(
            "recording part %s of session %s was interrupted: finalised", part.number, part.session_id
        )
        done.append(Recovered(part.session_id, part.number, root / part.folder, digest))
    return done
