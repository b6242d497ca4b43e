"""Where a session's recording lives on disk, under ``<data>/recordings`` (the settings' data folder).

``session-<id>/part-<n>/`` holds the files of each part (see :mod:`media.recorder`), with its
``stills/``; ``session-<id>/replay/`` holds the rendered replay (``replay.mp4``, ``replay.vtt``) and
its own signed manifest.
"""

from __future__ import annotations

from pathlib import Path

from remote_check.settings import Settings

REPLAY_FOLDER = "replay"
REPLAY_FILE = "replay.mp4"
CHAPTERS_FILE = "replay.vtt"
STILLS_FOLDER = "stills"


def recordings_root(settings: Settings) -> Path:
    """The folder of every recording."""
    return settings.data_dir / "recordings"


def session_folder_name(session_id: int) -> str:
    """The folder name of a session's recording (also the name of its room)."""
    return f"session-{session_id}"


def session_folder(root: Path, session_id: int) -> Path:
    """The folder of one session's recording."""
    return root / session_folder_name(session_id)


def replay_folder(root: Path, session_id: int) -> Path:
    """The folder of a session's rendered replay."""
    return session_folder(root, session_id) / REPLAY_FOLDER


def inside(root: Path, relative: str) -> Path:
    """``relative`` under ``root``, refusing any path that would leave it (``..``, absolute)."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"{relative!r} is outside the recordings folder")
    return path


def recording_folders(root: Path, session_id: int) -> list[Path]:
    """The folders of a session's recording on disk that carry a manifest: its parts in order,
    then its replay (blocking: call in a thread from async code)."""
    folder = session_folder(root, session_id)
    parts = sorted((p for p in folder.glob("part-*") if p.name[5:].isdigit()), key=lambda p: int(p.name[5:]))
    replay = folder / REPLAY_FOLDER
    return [*parts, *([replay] if replay.is_dir() else [])]
