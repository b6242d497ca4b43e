"""Where each picture goes in the replay: pure geometry, no I/O.

With a screen share: a 1600x720 canvas, the screen 1280x720 on the left, the cameras stacked in a
320-wide strip on the right. Without one: a 1280x720 canvas with the cameras in a grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SCREEN_WIDTH, SCREEN_HEIGHT = 1280, 720
STRIP_WIDTH = 320
GRID_WIDTH, GRID_HEIGHT = 1280, 720


@dataclass(frozen=True)
class Box:
    """A rectangle on the canvas, in pixels (all even, as yuv420p wants)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Layout:
    """The canvas size, the screen's box (None without a share) and one box per camera."""

    width: int
    height: int
    screen: Box | None
    cameras: list[Box]


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def plan(cameras: int, screen: bool) -> Layout:
    """The layout for ``cameras`` camera pictures, with or without a screen share."""
    if screen:
        boxes = []
        if cameras:
            height = _even(min(STRIP_WIDTH * 9 / 16, SCREEN_HEIGHT / cameras))
            boxes = [Box(SCREEN_WIDTH, i * height, STRIP_WIDTH, height) for i in range(cameras)]
        return Layout(
            SCREEN_WIDTH + STRIP_WIDTH, SCREEN_HEIGHT, Box(0, 0, SCREEN_WIDTH, SCREEN_HEIGHT), boxes
        )
    if cameras == 0:
        return Layout(GRID_WIDTH, GRID_HEIGHT, None, [])
    columns = math.ceil(math.sqrt(cameras))
    rows = math.ceil(cameras / columns)
    width, height = _even(GRID_WIDTH / columns), _even(GRID_HEIGHT / rows)
    top = (GRID_HEIGHT - rows * height) // 2 // 2 * 2
    boxes = [Box((i % columns) * width, top + (i // columns) * height, width, height) for i in range(cameras)]
    return Layout(GRID_WIDTH, GRID_HEIGHT, None, boxes)


def slots(spans: Sequence[tuple[str, float, float]]) -> list[int]:
    """A picture slot for each camera ``(participant, start, end)``: tracks that do not overlap in
    time share a slot (someone who left and a later arrival, or one person's camera in two parts
    of a recording), a participant keeps their slot when it is free. Returns one slot number per
    span, in the given order; the number of slots is ``max + 1``."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i][1], spans[i][2]))
    ends: list[float] = []
    owners: list[str] = []
    chosen = [0] * len(spans)
    for i in order:
        who, start, end = spans[i]
        free = [n for n, last in enumerate(ends) if last <= start]
        mine = [n for n in free if owners[n] == who]
        if mine or free:
            slot = (mine or free)[0]
        else:
            slot = len(ends)
            ends.append(end)
            owners.append(who)
        ends[slot], owners[slot] = max(ends[slot], end), who
        chosen[i] = slot
    return chosen
