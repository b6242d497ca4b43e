"""What this program writes is its owner's alone: the database, the keys, the recordings and the
data folder that holds them are never readable by other accounts on the machine."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

OWNER_ONLY = 0o077


def owner_only_files() -> None:
    """Set the process's umask so that every file and folder it creates from now on, and its
    children's (media workers, ffmpeg), is owner-only (0600 files, 0700 folders), whatever umask it
    was started with. Called where the program starts: the command line and the app factory."""
    current = os.umask(OWNER_ONLY)
    os.umask(current | OWNER_ONLY)


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) owner-only; an existing folder is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


class StoredFileDamaged(RuntimeError):
    """A stored file's bytes no longer have the digest it was stored under."""


class FileStore:
    """Write-once files named by their SHA-256 (``<root>/ab/abcdef…``), owner-only and read-only.

    Nothing is ever overwritten: storing bytes already there leaves the file as it is, and
    :meth:`get` checks the digest of what it reads, so a file changed behind our back is refused
    rather than served.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data``; its SHA-256 (hex), under which :meth:`get` finds it."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        private_folder(target.parent)
        temporary = target.with_name(f".{digest}.{os.getpid()}.tmp")
        with open(temporary, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temporary.chmod(0o400)
        os.replace(temporary, target)
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; :class:`StoredFileDamaged` if they changed."""
        data = self.path(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise StoredFileDamaged(digest)
        return data
