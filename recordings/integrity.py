"""The signed manifest of a recording folder: tamper evidence for every file in it.

At finalisation every file of the folder (the per-participant WebM parts, the replay file, the
chapters...) is entered with its size and SHA-256, together with the session id, its part number
and times, and the manifest names what it is evidence of: its session and its folder (``part-<n>``
or ``replay``), so that a valid manifest moved to another session's folder no longer verifies
there (:class:`Place`). The manifest is signed with HMAC-SHA256 under a key derived from the
server's secret key (:func:`manifest_key`, context ``recording-manifest-v1``), so that a key leak
of another use does not forge manifests and vice versa. :func:`verify` re-reads every byte and
names each changed, missing or added file, and a manifest whose signature does not hold.

The manifest is ``manifest.json`` in the folder: ``{"manifest": {...}, "signature": "<hex>"}``;
the signature covers the canonical JSON of ``manifest`` (sorted keys, no spaces, UTF-8). Hashing
reads files, so the async callers use :func:`write_manifest_async` and :func:`verify_async`, which
run in a worker thread, never on the event loop. :func:`manifest_digest` is the SHA-256 of the
manifest file, for the audit log; :mod:`recordings.verification` checks it against the digest the
audit log recorded when the folder was finished.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from remote_check.errors import Message

MANIFEST_NAME = "manifest.json"
KEY_CONTEXT = b"recording-manifest-v1"
FORMAT = 2  # 2: the manifest names its part (the folder it was made for)
CHUNK = 1 << 20

FindingKind = Literal[
    "changed",
    "missing",
    "added",
    "bad-signature",
    "no-manifest",
    "misplaced",
    "not-audited",
    "digest-mismatch",
    "no-audit-log",
]


def manifest_key(secret_key: bytes) -> bytes:
    """The manifest signing key, derived from the server's secret key (``settings.secret_key()``)."""
    return hmac.new(secret_key, KEY_CONTEXT, hashlib.sha256).digest()


@dataclass(frozen=True)
class Part:
    """Where a file belongs in the recording: part ``number`` (a new part after each server
    restart), from ``started_at`` to ``ended_at`` (aware datetimes; the end may be unknown)."""

    number: int
    started_at: dt.datetime
    ended_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        for moment in (self.started_at, self.ended_at):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("part times must be timezone-aware")


@dataclass(frozen=True)
class FileEntry:
    """One file of the folder: its path relative to the folder (``/``-separated), size, SHA-256
    (hex) and the part it belongs to, if any."""

    name: str
    size: int
    sha256: str
    part: Part | None = None


@dataclass(frozen=True)
class Place:
    """Where a manifest belongs: its session (``session-7``) and its folder there (``part-1``,
    ``replay``)."""

    session: str
    part: str

    def __str__(self) -> str:
        return f"{self.session}/{self.part}"

    @classmethod
    def of(cls, folder: Path) -> Place:
        """The place a folder sits in: its parent's name and its own."""
        return cls(folder.parent.name, folder.name)

    def matches(self, other: Place) -> bool:
        """The same place (a session named ``7`` or ``session-7`` alike)."""
        return (_session_number(self.session), self.part) == (_session_number(other.session), other.part)


def _session_number(name: str) -> str:
    return name.removeprefix("session-")


@dataclass(frozen=True)
class Manifest:
    """Everything the signature covers; ``part`` names the folder it was made for."""

    session_id: str
    created_at: dt.datetime
    files: tuple[FileEntry, ...]
    part: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON form of the manifest (the signed object)."""
        return {
            "format": FORMAT,
            "session_id": self.session_id,
            "part": self.part,
            "created_at": self.created_at.isoformat(),
            "files": [_entry_json(f) for f in self.files],
        }


def _entry_json(entry: FileEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"name": entry.name, "size": entry.size, "sha256": entry.sha256}
    if entry.part is not None:
        data["part"] = entry.part.number
        data["started_at"] = entry.part.started_at.isoformat()
        data["ended_at"] = entry.part.ended_at.isoformat() if entry.part.ended_at else None
    return data


def canonical(data: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: JSON with sorted keys and no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(data: Mapping[str, Any], key: bytes) -> str:
    """The HMAC-SHA256 (hex) of ``data`` under ``key`` (from :func:`manifest_key`)."""
    return hmac.new(key, canonical(data), hashlib.sha256).hexdigest()


def hash_file(path: Path) -> tuple[int, str]:
    """Size and SHA-256 (hex) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def hash_files(folder: Path, names: Sequence[str]) -> dict[str, tuple[int, str]]:
    """:func:`hash_file` of each of ``names`` in ``folder``, a file per core at once (hashlib lets go
    of the GIL while it hashes a chunk): a stop hashes every file a recording wrote, about 1 s per
    250 MB on one core."""
    if len(names) < 2:
        return {name: hash_file(folder / name) for name in names}
    with ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1)) as pool:
        return dict(zip(names, pool.map(lambda name: hash_file(folder / name), names), strict=True))


def folder_files(folder: Path) -> Iterator[str]:
    """The files of ``folder`` and its subfolders (but the manifest), as sorted relative names."""
    names = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    yield from sorted(n for n in names if n != MANIFEST_NAME)


def build_manifest(
    folder: Path, session_id: str, created_at: dt.datetime, parts: Mapping[str, Part] | None = None
) -> Manifest:
    """Hash every file of ``folder`` into a manifest naming ``folder``'s name as its part;
    ``parts`` gives the part of some files."""
    if created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    parts = parts or {}
    unknown = set(parts) - set(folder_files(folder))
    if unknown:
        raise ValueError(f"parts given for files that are not in the folder: {sorted(unknown)}")
    hashed = hash_files(folder, list(folder_files(folder)))
    entries = [FileEntry(name, size, sha256, parts.get(name)) for name, (size, sha256) in hashed.items()]
    return Manifest(session_id, created_at, tuple(entries), folder.name)


def write_manifest(folder: Path, manifest: Manifest, key: bytes) -> Path:
    """Write the signed manifest into ``folder`` (atomically) and return its path."""
    body = manifest.to_json()
    document = {"manifest": body, "signature": sign(body, key)}
    path = folder / MANIFEST_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def manifest_digest(folder: Path) -> str:
    """The SHA-256 (hex) of the manifest file, to be kept in the audit log."""
    return hash_file(folder / MANIFEST_NAME)[1]


@dataclass(frozen=True)
class Finding:
    """One problem :func:`verify` found; ``name`` is the file's name in the folder."""

    kind: FindingKind
    name: str
    detail: str = ""  # where the manifest belongs (misplaced), the audited digest (digest-mismatch)

    @property
    def message(self) -> Message:
        """The finding in Chinese and English."""
        texts: dict[FindingKind, Message] = {
            "changed": Message(f"文件已被修改：{self.name}", f"file changed: {self.name}"),
            "missing": Message(f"文件缺失：{self.name}", f"file missing: {self.name}"),
            "added": Message(f"多出未登记的文件：{self.name}", f"file added: {self.name}"),
            "bad-signature": Message(
                f"清单签名无效（清单被改动或密钥不符）：{self.name}",
                f"bad manifest signature (manifest edited or wrong key): {self.name}",
            ),
            "no-manifest": Message(
                f"清单缺失或无法读取：{self.name}", f"manifest missing or unreadable: {self.name}"
            ),
            "misplaced": Message(
                f"清单属于 {self.detail}，却位于 {self.name}（录像从别的会话或分段移来）",
                f"the manifest is of {self.detail} but lies in {self.name} "
                "(the recording was moved here from another session or part)",
            ),
            "not-audited": Message(
                f"审计日志中没有 {self.name} 的清单摘要（这里本不该有录像）",
                f"the audit log holds no manifest digest for {self.name} (no recording was finished here)",
            ),
            "digest-mismatch": Message(
                f"{self.name} 的清单与审计日志记录的摘要（{self.detail[:16]}…）不同：清单被替换",
                f"the manifest of {self.name} differs from the digest the audit log recorded "
                f"({self.detail[:16]}…): the manifest was replaced",
            ),
            "no-audit-log": Message(
                f"无法读取审计日志：{self.name} 未与其中记录的清单摘要核对",
                f"the audit log could not be read: {self.name} was not checked against its digest there",
            ),
        }
        return texts[self.kind]


@dataclass(frozen=True)
class Report:
    """The outcome of :func:`verify`: ``files`` files checked, and every problem found."""

    session_id: str | None
    files: int
    findings: tuple[Finding, ...] = field(default=())
    digest: str | None = None  # the SHA-256 of the manifest file as read (None: none readable)

    @property
    def ok(self) -> bool:
        """Whether the folder is exactly as signed."""
        return not self.findings


def verify(folder: Path, key: bytes, place: Place | None = None) -> Report:
    """Check the signature of ``folder``'s manifest and every byte of every file against it; given
    the ``place`` the folder sits in, that the manifest was made for it (session and part)."""
    try:
        raw = (folder / MANIFEST_NAME).read_bytes()
        document = json.loads(raw.decode("utf-8"))
        body = document["manifest"]
        signature = document["signature"]
        listed = {entry["name"]: (entry["size"], entry["sha256"]) for entry in body["files"]}
        session_id = str(body["session_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return Report(None, 0, (Finding("no-manifest", MANIFEST_NAME),))
    findings: list[Finding] = []
    if not isinstance(signature, str) or not hmac.compare_digest(sign(body, key), signature):
        findings.append(Finding("bad-signature", MANIFEST_NAME))
    if place is not None:
        made_for = Place(session_id, str(body.get("part") or place.part))  # format 1 named no part
        if not made_for.matches(place):
            findings.append(Finding("misplaced", str(place), str(made_for)))
    present = set(folder_files(folder))
    hashed = hash_files(folder, sorted(present & set(listed)))
    for name in sorted(listed):
        if name not in present:
            findings.append(Finding("missing", name))
        elif hashed[name] != tuple(listed[name]):
            findings.append(Finding("changed", name))
    findings.extend(Finding("added", name) for name in sorted(present - set(listed)))
    return Report(session_id, len(listed), tuple(findings), hashlib.sha256(raw).hexdigest())


async def write_manifest_async(
    folder: Path,
    session_id: str,
    created_at: dt.datetime,
    key: bytes,
    parts: Mapping[str, Part] | None = None,
) -> Path:
    """Build and write the signed manifest in a worker thread (hashing reads every file)."""

    def _work() -> Path:
        return write_manifest(folder, build_manifest(folder, session_id, created_at, parts), key)

    return await asyncio.to_thread(_work)


async def verify_async(folder: Path, key: bytes, place: Place | None = None) -> Report:
    """:func:`verify` in a worker thread."""
    return await asyncio.to_thread(verify, folder, key, place)
