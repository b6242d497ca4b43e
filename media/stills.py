"""Stills of the screen share: one VP8 keyframe decoded and saved as a JPEG, as evidence for a
checklist item. Decoding is done only when an expert asks, in a worker thread (the caller runs
:func:`save_still` with ``asyncio.to_thread``); the forwarding path never decodes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av

STILLS = "stills"
"""The folder of a part's stills."""
STILL_TIMEOUT = 3.0
"""How long to wait for the publisher's keyframe (asked for at once)."""


def decode_keyframe(packet: av.Packet[Any]) -> av.VideoFrame:
    """The picture of one VP8 keyframe."""
    decoder = av.CodecContext.create("vp8", "r")
    frames = decoder.decode(av.Packet(bytes(packet)))
    if not frames:
        raise ValueError("the keyframe decoded to no picture")
    frame = frames[0]
    assert isinstance(frame, av.VideoFrame)
    return frame


def encode_jpeg(frame: av.VideoFrame) -> bytes:
    """``frame`` as a JPEG (full-range YUV, as JPEG viewers expect)."""
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = frame.width, frame.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 30)
    packets = encoder.encode(frame.reformat(format="yuvj420p"))
    packets += encoder.encode(None)
    return b"".join(bytes(p) for p in packets)


def save_still(packet: av.Packet[Any], path: Path) -> None:
    """Decode the keyframe ``packet`` and write it to ``path`` as a JPEG (blocking)."""
    picture = encode_jpeg(decode_keyframe(packet))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(picture)
    temporary.replace(path)
