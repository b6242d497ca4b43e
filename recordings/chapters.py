"""Chapters from the expert's marks: WebVTT (``kind="chapters"``) for the browser and the ffmpeg
metadata format (``TIMEBASE=1/1000``, stated explicitly: docs and behaviour disagree on the default)."""

from __future__ import annotations

from dataclasses import dataclass

from remote_check.errors import invalid


@dataclass(frozen=True)
class Mark:
    """A checklist item shown between ``start`` and ``end`` seconds on the session clock."""

    code: str
    title: str
    start: float
    end: float

    @property
    def label(self) -> str:
        """The chapter's title: the item code, then its title."""
        return f"{self.code} {self.title}".strip()


def _checked(marks: list[Mark]) -> list[Mark]:
    for mark in marks:
        if mark.start < 0 or mark.end <= mark.start:
            raise invalid(
                f"检查项 {mark.code} 的起止时间无效",
                f"Item {mark.code} has an invalid start or end",
                code=mark.code,
            )
    return sorted(marks, key=lambda m: (m.start, m.end))


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt(marks: list[Mark]) -> str:
    """A WebVTT chapters track: one cue per mark, identified by its item code."""
    lines = ["WEBVTT", ""]
    for mark in _checked(marks):
        text = " ".join(mark.label.replace("-->", "->").split())
        lines += [
            mark.code.replace("-->", "->"),
            f"{_vtt_time(mark.start)} --> {_vtt_time(mark.end)}",
            text,
            "",
        ]
    return "\n".join(lines)


def _escape(value: str) -> str:
    for char in ("\\", "=", ";", "#", "\n"):
        value = value.replace(char, "\\" + char)
    return value


def ffmetadata(marks: list[Mark]) -> str:
    """The ffmpeg metadata file (``;FFMETADATA1``) with one ``[CHAPTER]`` per mark, in milliseconds."""
    lines = [";FFMETADATA1"]
    for mark in _checked(marks):
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(mark.start * 1000)}",
            f"END={round(mark.end * 1000)}",
            f"title={_escape(mark.label)}",
        ]
    return "\n".join(lines) + "\n"
