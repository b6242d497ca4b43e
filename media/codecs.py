"""What the server forwards: one video and one audio codec, and how to spot a VP8 keyframe."""

from __future__ import annotations

from typing import Final

VIDEO_CODEC: Final = "VP8"
AUDIO_CODEC: Final = "opus"
FORWARDED: Final[dict[str, str]] = {"video": VIDEO_CODEC, "audio": AUDIO_CODEC}

VIDEO_CLOCK_RATE: Final = 90_000
AUDIO_CLOCK_RATE: Final = 48_000
# One frame's worth of clock ticks, used to join two sources on one timeline.
FRAME_TICKS: Final[dict[str, int]] = {"video": VIDEO_CLOCK_RATE // 30, "audio": AUDIO_CLOCK_RATE // 50}


def is_vp8_keyframe(frame: bytes) -> bool:
    """Whether an encoded VP8 frame is a keyframe (RFC 6386 section 9.1: bit 0 of the
    frame tag is 0 for a key frame)."""
    return len(frame) > 0 and frame[0] & 0x01 == 0


def is_forwardable(kind: str, codec_name: str) -> bool:
    """Whether media of ``kind`` in ``codec_name`` can be forwarded to every subscriber as it is."""
    wanted = FORWARDED.get(kind)
    return wanted is not None and codec_name.lower() == wanted.lower()
