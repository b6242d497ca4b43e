"""Reading and adjusting SDP text: the media sections of an offer, bitrate hints in an answer.

Pure functions over SDP strings (RFC 8866); aiortc parses SDP for itself, these only read what
the room needs (which m-line sends or receives what) and make the one edit it makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# Chrome starts a new video stream at a low bitrate and ramps up slowly on REMB (aiortc has no
# transport-wide congestion control); these hints start it near the target.
START_BITRATE_KBPS = 1000
MIN_BITRATE_KBPS = 300

_RTPMAP = re.compile(r"a=rtpmap:(\d+) ([^/\s]+)/")
_FMTP = re.compile(r"a=fmtp:(\d+) ?(.*)")
_SSRC = re.compile(r"a=ssrc:(\d+) ")
_FID = re.compile(r"a=ssrc-group:FID (\d+)")


@dataclass
class MediaSection:
    """One m-line of a session description, as the room sees it."""

    kind: str
    mid: str
    direction: str
    port: int
    payload_types: list[int]
    codecs: dict[int, str] = field(default_factory=dict)
    ssrcs: list[int] = field(default_factory=list)
    fid_ssrc: int | None = None

    @property
    def rejected(self) -> bool:
        """A port of 0 rejects the m-line."""
        return self.port == 0

    @property
    def first_codec(self) -> str:
        """The codec the sender will use: the first payload type of the m-line."""
        if not self.payload_types:
            return ""
        return self.codecs.get(self.payload_types[0], "")

    @property
    def media_ssrc(self) -> int | None:
        """The SSRC of the media stream (not its retransmission stream), if the sender named it."""
        if self.fid_ssrc is not None:
            return self.fid_ssrc
        return self.ssrcs[0] if self.ssrcs else None

    @property
    def sends(self) -> bool:
        """Whether the side that wrote this section sends media on it."""
        return not self.rejected and self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        """Whether the side that wrote this section receives media on it."""
        return not self.rejected and self.direction in ("sendrecv", "recvonly")


def _lines(sdp: str) -> list[str]:
    return [line for line in sdp.replace("\r\n", "\n").split("\n") if line]


def media_sections(sdp: str) -> list[MediaSection]:
    """The audio and video m-lines of ``sdp``, in order (data channels are left out)."""
    sections: list[MediaSection] = []
    session_direction = "sendrecv"
    current: MediaSection | None = None
    for line in _lines(sdp):
        if line.startswith("m="):
            parts = line[2:].split()
            if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
                raise ValueError(f"bad m-line: {line!r}")
            current = MediaSection(
                kind=parts[0],
                mid="",
                direction=session_direction,
                port=int(parts[1].split("/")[0]),
                payload_types=[int(pt) for pt in parts[3:] if pt.isdigit()],
            )
            sections.append(current)
        elif line[2:] in DIRECTIONS and line.startswith("a="):
            if current is None:
                session_direction = line[2:]
            else:
                current.direction = line[2:]
        elif current is not None:
            _read_attribute(current, line)
    return [s for s in sections if s.kind in ("audio", "video")]


def _read_attribute(section: MediaSection, line: str) -> None:
    if line.startswith("a=mid:"):
        section.mid = line[6:].strip()
    elif match := _RTPMAP.match(line):
        section.codecs[int(match.group(1))] = match.group(2)
    elif match := _FID.match(line):
        section.fid_ssrc = int(match.group(1))
    elif match := _SSRC.match(line):
        ssrc = int(match.group(1))
        if ssrc not in section.ssrcs:
            section.ssrcs.append(ssrc)


def ice_credentials(sdp: str) -> tuple[str, str] | None:
    """The ICE username fragment and password of ``sdp`` (the first given, session or media
    level; a bundled offer gives the same on every m-line), or None without both."""
    ufrag = password = None
    for line in _lines(sdp):
        if ufrag is None and line.startswith("a=ice-ufrag:"):
            ufrag = line[12:].strip()
        elif password is None and line.startswith("a=ice-pwd:"):
            password = line[10:].strip()
    return None if ufrag is None or password is None else (ufrag, password)


def add_bitrate_hints(
    sdp: str, start_kbps: int = START_BITRATE_KBPS, min_kbps: int = MIN_BITRATE_KBPS, codec: str = "VP8"
) -> str:
    """``sdp`` with ``x-google-start-bitrate`` and ``x-google-min-bitrate`` on every ``codec``
    format of its video sections (replacing hints already there); other lines are unchanged."""
    hints = f"x-google-start-bitrate={start_kbps};x-google-min-bitrate={min_kbps}"
    out: list[str] = []
    kind = ""
    targets: set[int] = set()
    pending: dict[int, int] = {}  # payload type -> index in ``out`` of its rtpmap line
    for line in _lines(sdp):
        if line.startswith("m="):
            _insert_missing_fmtp(out, pending, hints)
            kind = line[2:].split(" ", 1)[0]
            targets, pending = set(), {}
        elif kind == "video" and (match := _RTPMAP.match(line)) and match.group(2).lower() == codec.lower():
            targets.add(int(match.group(1)))
            pending[int(match.group(1))] = len(out)
        elif kind == "video" and (match := _FMTP.match(line)) and int(match.group(1)) in targets:
            payload_type = int(match.group(1))
            kept = [p for p in match.group(2).split(";") if p and not p.startswith("x-google-")]
            line = f"a=fmtp:{payload_type} {';'.join([*kept, hints])}"
            pending.pop(payload_type, None)
        out.append(line)
    _insert_missing_fmtp(out, pending, hints)
    return "\r\n".join(out) + "\r\n"


def _insert_missing_fmtp(out: list[str], pending: dict[int, int], hints: str) -> None:
    for payload_type, index in sorted(pending.items(), key=lambda item: item[1], reverse=True):
        out.insert(index + 1, f"a=fmtp:{payload_type} {hints}")
    pending.clear()
