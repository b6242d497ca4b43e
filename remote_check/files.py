"""What this program writes is its owner's alone: the database, the keys, the recordings and the
data folder that holds them are never readable by other accounts on the machine."""

from __future__ import annotations

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
