"""A session's recording as evidence: the database rows behind the replay page and the evidence
package (:func:`load`), and its files.

Each part's ``index.json`` (written by :mod:`media.recorder`) says which file holds whose
camera, microphone or screen; a part cut short by a crash may have none, and then its
``<participant>-<source>.mkv`` files speak for themselves. The evidence package is a zip of the
replay folder, every part folder as recorded (media, ``index.json``, ``manifest.json``, stills)
and the checklist report; media are stored as they are (already compressed), text deflated.

Everything here but :func:`load` reads or writes files: the web app calls it through
``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.integrity import CHUNK
from recordings.models import ItemMark, RecordingPart, Replay, Still
from recordings.paths import CHAPTERS_FILE, REPLAY_FILE, REPLAY_FOLDER, inside, session_folder
from recordings.report import Range, ReportItem
from recordings.service import parts_of
from remote_check.accounts.access import Principal
from remote_check.accounts.models import User
from remote_check.checklist.models import ChecklistItem
from remote_check.checklist.service import list_items
from remote_check.programme.models import Enterprise, VoucherProject
from scheduler.access import session_in_scope
from scheduler.models import CheckSession

INDEX_NAME = "index.json"
SOURCES = ("camera", "microphone", "screen")
MEDIA_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/webm",  # Matroska with VP8/Opus: browsers play it as WebM
    ".mka": "audio/webm",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
STORED = {".mp4", ".webm", ".mkv", ".mka", ".jpg", ".jpeg", ".png"}


@dataclass
class Evidence:
    """A session's recording as the database knows it: the session (in the reader's scope), its
    project's checklist, the experts' marks and stills per item (in time order), the parts and
    the replay, and the names of the people who set the results."""

    check: CheckSession
    project_code: str
    enterprise: str
    items: list[ChecklistItem]
    marks: dict[int, list[ItemMark]]
    stills: dict[int | None, list[Still]]
    parts: list[RecordingPart]
    replay: Replay | None
    names: dict[int, str]

    @property
    def all_stills(self) -> list[Still]:
        """Every still of the session, those of no item included."""
        return [still for stills in self.stills.values() for still in stills]


async def load(session: AsyncSession, principal: Principal, session_id: int) -> Evidence:
    """The evidence of a session ``principal`` may see (else ``NotFound``)."""
    check = await session_in_scope(session, principal, session_id)
    project = await session.get(VoucherProject, check.project_id)
    assert project is not None  # a foreign key
    enterprise = await session.get(Enterprise, project.enterprise_id)
    items = await list_items(session, project.id)
    marks: dict[int, list[ItemMark]] = {}
    for mark in await session.scalars(
        select(ItemMark).where(ItemMark.session_id == check.id).order_by(ItemMark.start, ItemMark.id)
    ):
        marks.setdefault(mark.item_id, []).append(mark)
    stills: dict[int | None, list[Still]] = {}
    for still in await session.scalars(
        select(Still).where(Still.session_id == check.id).order_by(Still.at, Still.id)
    ):
        stills.setdefault(still.item_id, []).append(still)
    users = {i.updated_by for i in items if i.updated_by is not None}
    names: dict[int, str] = {}
    if users:
        rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(users)))
        names = {user_id: name for user_id, name in rows}
    return Evidence(
        check,
        project.code,
        enterprise.name if enterprise is not None else "",
        items,
        marks,
        stills,
        await parts_of(session, check.id),
        await session.get(Replay, check.id),
        names,
    )


def report_items(found: Evidence) -> list[ReportItem]:
    """The checklist report's items (:mod:`recordings.report`) of ``found``."""
    return [
        ReportItem(
            code=item.code,
            standard=item.standard,
            title_zh=item.title_zh,
            title_en=item.title_en,
            result=item.result,
            notes=item.notes,
            ranges=tuple(Range(m.start, m.end) for m in found.marks.get(item.id, [])),
            stills=tuple(Path(s.file).name for s in found.stills.get(item.id, [])),
            checked_by=found.names.get(item.updated_by, "") if item.updated_by is not None else "",
            checked_at=item.updated_at,
        )
        for item in found.items
    ]


@dataclass(frozen=True)
class TrackFile:
    """One person's file of one part: ``name`` in the part's folder, ``participant`` (the room's
    id), ``person`` (their name, may be empty), ``source`` (camera, microphone, screen), ``kind``
    (video or audio) and its size in bytes (0: the file is gone)."""

    name: str
    participant: str
    person: str
    source: str
    kind: str
    size: int

    @property
    def media_type(self) -> str:
        """The Content-Type the browser plays it as."""
        return media_type(self.name, self.kind)


def media_type(name: str, kind: str | None = None) -> str:
    """The Content-Type of a recording file: audio tracks in Matroska as ``audio/webm``."""
    suffix = Path(name).suffix.lower()
    if suffix == ".mkv" and (kind == "audio" or Path(name).stem.endswith("-microphone")):
        return "audio/webm"
    return MEDIA_TYPES.get(suffix, "application/octet-stream")


def _guess(name: str) -> tuple[str, str]:
    stem = Path(name).stem
    for source in SOURCES:
        if stem.endswith(f"-{source}"):
            return stem.removesuffix(f"-{source}"), source
    return stem, ""


def part_tracks(folder: Path) -> list[TrackFile]:
    """The per-person files of a part folder, from its index (or its ``.mkv`` files without one),
    ordered by person and source."""
    entries: list[dict[str, Any]] = []
    try:
        document = json.loads((folder / INDEX_NAME).read_text(encoding="utf-8"))
        entries = [dict(e) for e in document.get("files", []) if isinstance(e, Mapping) and "name" in e]
    except (OSError, ValueError, AttributeError):
        for path in sorted(folder.glob("*.mkv")):
            participant, source = _guess(path.name)
            kind = "audio" if source == "microphone" else "video"
            entries.append({"name": path.name, "participant": participant, "source": source, "kind": kind})
    tracks = []
    for entry in entries:
        name = Path(str(entry["name"])).name  # a name, never a path
        path = folder / name
        tracks.append(
            TrackFile(
                name=name,
                participant=str(entry.get("participant", "")),
                person=str(entry.get("person", "")),
                source=str(entry.get("source", "")),
                kind=str(entry.get("kind", "")),
                size=path.stat().st_size if path.is_file() else 0,
            )
        )
    order = {source: n for n, source in enumerate(SOURCES)}
    return sorted(tracks, key=lambda t: (t.person or t.participant, order.get(t.source, 9), t.name))


def folder_members(folder: Path, prefix: str) -> list[tuple[Path, str]]:
    """Every file under ``folder`` as ``(path, name in the zip)``, the name under ``prefix``."""
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return [(p, f"{prefix}/{p.relative_to(folder).as_posix()}") for p in files]


def write_package(
    target: Path, members: Iterable[tuple[Path, str]], extras: Mapping[str, bytes]
) -> tuple[str, list[str]]:
    """Write the zip ``target`` with the files ``members`` (path, name) and the generated
    ``extras`` (name -> bytes); its SHA-256 (hex) and the names it holds, in order."""
    names: list[str] = []
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        for path, name in members:
            if name in seen:
                continue
            seen.add(name)
            method = zipfile.ZIP_STORED if path.suffix.lower() in STORED else zipfile.ZIP_DEFLATED
            archive.write(path, name, compress_type=method)
            names.append(name)
        for name, data in extras.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
            names.append(name)
    digest = hashlib.sha256()
    with target.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), names


@dataclass(frozen=True)
class Disk:
    """What the replay page needs of the disk: the replay's size (0: none), whether its chapters
    exist, and each part folder's per-person files."""

    replay_size: int
    chapters: bool
    parts: list[tuple[str, list[TrackFile]]]  # (folder name, files)


def read_disk(root: Path, session_id: int, folders: list[str]) -> Disk:
    """The :class:`Disk` of a session's recording (``folders``: its parts, relative to ``root``)."""
    replay = session_folder(root, session_id) / REPLAY_FOLDER
    video = replay / REPLAY_FILE
    parts = []
    for folder in folders:
        try:
            path = inside(root, folder)
        except ValueError:
            continue
        parts.append((path.name, part_tracks(path)))
    return Disk(video.stat().st_size if video.is_file() else 0, (replay / CHAPTERS_FILE).is_file(), parts)


def package_members(root: Path, loaded: Evidence) -> list[tuple[Path, str]]:
    """The files of the evidence package: the replay folder, every part folder, and any still kept
    elsewhere, each with its name in the zip (under ``session-<id>/``)."""
    prefix = session_folder(root, loaded.check.id).name
    members: list[tuple[Path, str]] = []
    members += folder_members(session_folder(root, loaded.check.id) / REPLAY_FOLDER, f"{prefix}/replay")
    for part in loaded.parts:
        try:
            members += folder_members(inside(root, part.folder), f"{prefix}/{Path(part.folder).name}")
        except ValueError:
            continue
    for still in loaded.all_stills:
        try:
            path = inside(root, still.file)
        except ValueError:
            continue
        if path.is_file() and path not in {p for p, _ in members}:
            members.append((path, f"{prefix}/stills/{path.name}"))
    return members


def verify_folders(root: Path, loaded: Evidence) -> list[tuple[str, Path]]:
    """The folders that have a signed manifest to check: every part, then the replay's."""
    folders = []
    for part in loaded.parts:
        try:
            folders.append((Path(part.folder).name, inside(root, part.folder)))
        except ValueError:
            continue
    replay = session_folder(root, loaded.check.id) / REPLAY_FOLDER
    if replay.is_dir():
        folders.append((REPLAY_FOLDER, replay))
    return folders
